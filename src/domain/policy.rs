//! The clinic's policy: the numbers DOMAIN.md marks *policy*, which an admin
//! may change and every rule reads.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use super::{depth::DepthRange, treatment_area::TreatmentArea};

/// The clinic's protocol settings in force.
#[derive(Clone, Debug, PartialEq)]
pub struct ClinicPolicy {
    /// The clinic's time zone: calendar days and due dates are counted in it.
    pub time_zone: Tz,
    /// Fewest days between two procedures of one patient (R-INTERVAL).
    pub min_interval_days: u32,
    /// Recommended days between two procedures (R-INTERVAL, R-FOLLOWUP).
    pub recommended_interval_days: u32,
    /// Sessions a new treatment plan proposes (R-SERIES).
    pub planned_sessions: u32,
    /// How long a contraindication screening stays valid (R-SCREENING).
    pub screening_valid_days: u32,
    /// Isotretinoin wash-out before needling (relative contraindication).
    pub isotretinoin_washout_days: u32,
    /// Guideline depth range per treatment area (R-DEPTH).
    pub depth_ranges: BTreeMap<TreatmentArea, DepthRange>,
    /// Optimistic-locking version of the policy row.
    pub version: i32,
    /// When the policy was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ClinicPolicy {
    /// The guideline depth range of an area.
    pub fn depth_range(&self, area: TreatmentArea) -> Option<DepthRange> {
        self.depth_ranges.get(&area).copied()
    }
}
