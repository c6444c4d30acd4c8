//! `ClinicPolicy` and `DepthGuideline`.

use async_graphql::{Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::{policy, treatment_area::TreatmentArea};

/// The clinic's protocol settings (the numbers DOMAIN.md marks *policy*).
/// An admin may change them; every rule reads the values in force.
pub struct ClinicPolicy(policy::ClinicPolicy);

impl From<policy::ClinicPolicy> for ClinicPolicy {
    fn from(policy: policy::ClinicPolicy) -> Self {
        Self(policy)
    }
}

/// The guideline needle depth range of one treatment area (R-DEPTH).
#[derive(SimpleObject, Clone, Debug)]
pub struct DepthGuideline {
    /// The treatment area.
    pub area: TreatmentArea,
    /// Shallowest guideline depth, in millimetres.
    pub min_depth_mm: f64,
    /// Deepest guideline depth, in millimetres.
    pub max_depth_mm: f64,
}

/// The clinic's protocol settings (the numbers DOMAIN.md marks *policy*).
/// An admin may change them; every rule reads the values in force.
#[Object]
impl ClinicPolicy {
    /// The clinic's IANA time zone (e.g. `America/New_York`): calendar days,
    /// intervals and follow-up due dates are counted in it.
    async fn time_zone(&self) -> &str {
        self.0.time_zone.name()
    }

    /// Fewest days between two procedures of the same patient (R-INTERVAL).
    async fn min_interval_days(&self) -> u32 {
        self.0.min_interval_days
    }

    /// Recommended days between two procedures (R-INTERVAL); the next-session
    /// follow-up is due this many days after a procedure.
    async fn recommended_interval_days(&self) -> u32 {
        self.0.recommended_interval_days
    }

    /// Sessions a new treatment plan proposes by default (R-SERIES).
    async fn planned_sessions(&self) -> u32 {
        self.0.planned_sessions
    }

    /// Days a contraindication screening stays valid for starting a
    /// procedure (R-SCREENING).
    async fn screening_valid_days(&self) -> u32 {
        self.0.screening_valid_days
    }

    /// Days since the last isotretinoin dose below which needling is a
    /// relative contraindication.
    async fn isotretinoin_washout_days(&self) -> u32 {
        self.0.isotretinoin_washout_days
    }

    /// The guideline depth range of every treatment area (R-DEPTH), in the
    /// order of the depth table.
    async fn depth_guidelines(&self) -> Vec<DepthGuideline> {
        self.0
            .depth_ranges
            .iter()
            .map(|(area, range)| DepthGuideline {
                area: *area,
                min_depth_mm: range.min.mm(),
                max_depth_mm: range.max.mm(),
            })
            .collect()
    }

    /// Version of the policy, for optimistic locking on update.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the policy was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
