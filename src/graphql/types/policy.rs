//! `ClinicPolicy` and `DepthGuideline`.

use crate::graphql::scalars::Timestamp;
use async_graphql::{InputObject, Object, SimpleObject};

use crate::domain::{
    policy::{self, PolicyChanges},
    treatment_area::TreatmentArea,
};

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

    /// Absolute lifetime of a login session, in hours, however often it is
    /// refreshed.
    async fn session_lifetime_hours(&self) -> u32 {
        self.0.session_lifetime_hours
    }

    /// Youngest age the clinic treats (patients' dates of birth are checked
    /// against it).
    async fn minimum_patient_age(&self) -> u32 {
        self.0.minimum_patient_age
    }

    /// Unanswered call attempts before a follow-up is marked MISSED.
    async fn follow_up_max_attempts(&self) -> u32 {
        self.0.follow_up_max_attempts
    }

    /// Who may amend a signed procedure: its performer and supervising
    /// providers (the default), or any provider. Every amendment is audited
    /// and keeps who made it.
    async fn amendment_policy(&self) -> policy::AmendmentPolicy {
        self.0.amendment_policy
    }

    /// Version of the policy, for optimistic locking on update.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the policy was last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at.into()
    }
}

/// A guideline depth range to set for one area.
#[derive(InputObject, Clone, Debug)]
pub struct DepthGuidelineInput {
    /// The treatment area.
    pub area: TreatmentArea,
    /// Shallowest guideline depth, in millimetres.
    pub min_depth_mm: f64,
    /// Deepest guideline depth, in millimetres.
    pub max_depth_mm: f64,
}

/// Changes to the clinic policy; omitted fields keep their values.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateClinicPolicyInput {
    /// The `version` you last read; a stale one fails with CONFLICT.
    pub expected_version: i32,
    /// IANA time zone, e.g. `America/Chicago`.
    pub time_zone: Option<String>,
    /// Fewest days between two procedures of a patient (1-365).
    pub min_interval_days: Option<i32>,
    /// Recommended days between procedures (not below the minimum).
    pub recommended_interval_days: Option<i32>,
    /// Sessions a new treatment plan proposes (1-20).
    pub planned_sessions: Option<i32>,
    /// Days a screening stays valid (1-365).
    pub screening_valid_days: Option<i32>,
    /// Isotretinoin wash-out in days (0-730).
    pub isotretinoin_washout_days: Option<i32>,
    /// Absolute lifetime of a login session in hours (1-72).
    pub session_lifetime_hours: Option<i32>,
    /// Youngest age the clinic treats (16-99).
    pub minimum_patient_age: Option<i32>,
    /// Unanswered call attempts before a follow-up is MISSED (1-10).
    pub follow_up_max_attempts: Option<i32>,
    /// Who may amend a signed procedure.
    pub amendment_policy: Option<policy::AmendmentPolicy>,
    /// New guideline depth ranges for some areas.
    pub depth_guidelines: Option<Vec<DepthGuidelineInput>>,
}

impl From<UpdateClinicPolicyInput> for PolicyChanges {
    fn from(input: UpdateClinicPolicyInput) -> Self {
        Self {
            time_zone: input.time_zone,
            min_interval_days: input.min_interval_days,
            recommended_interval_days: input.recommended_interval_days,
            planned_sessions: input.planned_sessions,
            screening_valid_days: input.screening_valid_days,
            isotretinoin_washout_days: input.isotretinoin_washout_days,
            session_lifetime_hours: input.session_lifetime_hours,
            minimum_patient_age: input.minimum_patient_age,
            follow_up_max_attempts: input.follow_up_max_attempts,
            amendment_policy: input.amendment_policy,
            depth_ranges: input
                .depth_guidelines
                .unwrap_or_default()
                .into_iter()
                .map(|guideline| {
                    (
                        guideline.area,
                        guideline.min_depth_mm,
                        guideline.max_depth_mm,
                    )
                })
                .collect(),
        }
    }
}

/// The changed policy.
#[derive(SimpleObject)]
pub struct UpdateClinicPolicyPayload {
    /// The policy now in force.
    pub clinic_policy: ClinicPolicy,
}
