//! Needle depth as an exact quantity.
//!
//! Depths are kept in whole micrometres so that "exactly at the limit"
//! compares exactly; the API speaks millimetres (0.25 mm = 250 µm).

use std::fmt;

/// Deepest needle any device on the market reaches; anything beyond is a
/// typo (e.g. micrometres entered as millimetres).
pub const MAX_PLAUSIBLE_DEPTH_UM: u32 = 5_000;

/// A needle depth, in whole micrometres, always positive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Depth(u32);

/// Why a depth given in millimetres was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DepthError {
    /// NaN or infinite.
    #[error("depth must be a finite number of millimetres")]
    NotFinite,
    /// Zero or negative.
    #[error("depth must be greater than 0 mm")]
    NotPositive,
    /// Finer than the micrometre the clinic records.
    #[error("depth must be given to at most 3 decimal places (whole micrometres)")]
    TooPrecise,
    /// Deeper than any micro-needling device reaches.
    #[error("depth must not exceed 5 mm")]
    Implausible,
}

impl Depth {
    /// A depth from whole micrometres.
    ///
    /// # Errors
    /// [`DepthError::NotPositive`] for 0, [`DepthError::Implausible`] past 5 mm.
    pub fn from_micrometres(micrometres: u32) -> Result<Self, DepthError> {
        if micrometres == 0 {
            Err(DepthError::NotPositive)
        } else if micrometres > MAX_PLAUSIBLE_DEPTH_UM {
            Err(DepthError::Implausible)
        } else {
            Ok(Self(micrometres))
        }
    }

    /// A depth from millimetres as a client sends them.
    ///
    /// # Errors
    /// A [`DepthError`] for non-finite, non-positive, sub-micrometre or
    /// implausibly deep values.
    pub fn from_mm(millimetres: f64) -> Result<Self, DepthError> {
        if !millimetres.is_finite() {
            return Err(DepthError::NotFinite);
        }
        if millimetres <= 0.0 {
            return Err(DepthError::NotPositive);
        }
        let micrometres = millimetres * 1000.0;
        let rounded = micrometres.round();
        if (micrometres - rounded).abs() > 1e-6 {
            return Err(DepthError::TooPrecise);
        }
        if rounded > f64::from(MAX_PLAUSIBLE_DEPTH_UM) {
            return Err(DepthError::Implausible);
        }
        // In range 1..=5000 after the checks above, so the cast is exact.
        Self::from_micrometres(rounded as u32)
    }

    /// The depth in whole micrometres.
    pub fn micrometres(self) -> u32 {
        self.0
    }

    /// The depth in millimetres, as the API shows it.
    pub fn mm(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl fmt::Display for Depth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mm", self.mm())
    }
}

/// An inclusive range of depths: the guideline for one treatment area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthRange {
    /// Shallowest guideline depth.
    pub min: Depth,
    /// Deepest guideline depth.
    pub max: Depth,
}

impl DepthRange {
    /// A range whose minimum does not exceed its maximum.
    ///
    /// # Errors
    /// `None` when `min > max`.
    pub fn new(min: Depth, max: Depth) -> Option<Self> {
        (min <= max).then_some(Self { min, max })
    }

    /// True when `depth` lies within the range, limits included.
    pub fn contains(self, depth: Depth) -> bool {
        self.min <= depth && depth <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millimetres_convert_exactly_to_micrometres() {
        assert_eq!(Depth::from_mm(0.25).map(Depth::micrometres), Ok(250));
        assert_eq!(Depth::from_mm(1.5).map(Depth::micrometres), Ok(1500));
        assert_eq!(Depth::from_mm(0.001).map(Depth::micrometres), Ok(1));
        assert_eq!(Depth::from_mm(2.5).map(Depth::mm), Ok(2.5));
    }

    #[test]
    fn invalid_depths_are_refused() {
        assert_eq!(Depth::from_mm(0.0), Err(DepthError::NotPositive));
        assert_eq!(Depth::from_mm(-0.5), Err(DepthError::NotPositive));
        assert_eq!(Depth::from_mm(f64::NAN), Err(DepthError::NotFinite));
        assert_eq!(Depth::from_mm(f64::INFINITY), Err(DepthError::NotFinite));
        assert_eq!(Depth::from_mm(0.0005), Err(DepthError::TooPrecise));
        assert_eq!(Depth::from_mm(250.0), Err(DepthError::Implausible));
        assert_eq!(Depth::from_micrometres(0), Err(DepthError::NotPositive));
    }

    #[test]
    fn range_includes_its_limits() {
        let range = DepthRange::new(
            Depth::from_micrometres(250).unwrap(),
            Depth::from_micrometres(500).unwrap(),
        )
        .unwrap();
        assert!(range.contains(Depth::from_mm(0.25).unwrap()));
        assert!(range.contains(Depth::from_mm(0.5).unwrap()));
        assert!(!range.contains(Depth::from_mm(0.501).unwrap()));
        assert!(!range.contains(Depth::from_mm(0.249).unwrap()));
    }

    #[test]
    fn inverted_range_is_refused() {
        let shallow = Depth::from_micrometres(250).unwrap();
        let deep = Depth::from_micrometres(500).unwrap();
        assert!(DepthRange::new(deep, shallow).is_none());
    }
}
