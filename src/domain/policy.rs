//! The clinic's policy: the numbers DOMAIN.md marks *policy*, which an admin
//! may change and every rule reads.

use std::collections::BTreeMap;

use async_graphql::Enum;
use chrono_tz::Tz;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

use super::{
    depth::{Depth, DepthRange},
    treatment_area::TreatmentArea,
};

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
    /// Absolute lifetime of a login session, in hours, however often it is
    /// refreshed.
    pub session_lifetime_hours: u32,
    /// Youngest age the clinic treats.
    pub minimum_patient_age: u32,
    /// Unanswered attempts before a follow-up is MISSED (R-FOLLOWUP).
    pub follow_up_max_attempts: u32,
    /// Who may amend a signed procedure (R-RECORDS).
    pub amendment_policy: AmendmentPolicy,
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

/// Changes an admin asks for; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct PolicyChanges {
    /// New IANA time zone name.
    pub time_zone: Option<String>,
    /// New minimum interval, days.
    pub min_interval_days: Option<i32>,
    /// New recommended interval, days.
    pub recommended_interval_days: Option<i32>,
    /// New default planned sessions.
    pub planned_sessions: Option<i32>,
    /// New screening validity, days.
    pub screening_valid_days: Option<i32>,
    /// New isotretinoin wash-out, days.
    pub isotretinoin_washout_days: Option<i32>,
    /// New session lifetime, hours.
    pub session_lifetime_hours: Option<i32>,
    /// New minimum patient age.
    pub minimum_patient_age: Option<i32>,
    /// New number of follow-up attempts.
    pub follow_up_max_attempts: Option<i32>,
    /// New rule for who may amend a signed procedure.
    pub amendment_policy: Option<AmendmentPolicy>,
    /// New guideline ranges for some areas, in millimetres.
    pub depth_ranges: Vec<(TreatmentArea, f64, f64)>,
}

/// A policy change that was refused, naming the input field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    /// The input field at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn policy_error(field: &str, message: impl Into<String>) -> PolicyError {
    PolicyError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn in_range(
    field: &str,
    value: Option<i32>,
    current: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, PolicyError> {
    let Some(value) = value else {
        return Ok(current);
    };
    u32::try_from(value)
        .ok()
        .filter(|value| range.contains(value))
        .ok_or_else(|| {
            policy_error(
                field,
                format!("must be between {} and {}", range.start(), range.end()),
            )
        })
}

impl ClinicPolicy {
    /// The policy with `changes` applied, if the result is coherent: a real
    /// time zone, positive counts within sane bounds, the recommended
    /// interval not below the minimum, and valid depth ranges.
    ///
    /// # Errors
    /// A [`PolicyError`] naming the first offending field.
    pub fn with_changes(&self, changes: &PolicyChanges) -> Result<Self, PolicyError> {
        let time_zone = match &changes.time_zone {
            Some(name) => name.parse::<Tz>().map_err(|_| {
                policy_error(
                    "timeZone",
                    format!("{name:?} is not an IANA time zone such as America/New_York"),
                )
            })?,
            None => self.time_zone,
        };
        let min_interval_days = in_range(
            "minIntervalDays",
            changes.min_interval_days,
            self.min_interval_days,
            1..=365,
        )?;
        let recommended_interval_days = in_range(
            "recommendedIntervalDays",
            changes.recommended_interval_days,
            self.recommended_interval_days,
            1..=365,
        )?;
        if recommended_interval_days < min_interval_days {
            return Err(policy_error(
                "recommendedIntervalDays",
                "the recommended interval cannot be shorter than the minimum interval",
            ));
        }
        let mut depth_ranges = self.depth_ranges.clone();
        for (index, (area, min_mm, max_mm)) in changes.depth_ranges.iter().enumerate() {
            let field = format!("depthGuidelines[{index}]");
            let min = Depth::from_mm(*min_mm)
                .map_err(|error| policy_error(&format!("{field}.minDepthMm"), error.to_string()))?;
            let max = Depth::from_mm(*max_mm)
                .map_err(|error| policy_error(&format!("{field}.maxDepthMm"), error.to_string()))?;
            let range = DepthRange::new(min, max).ok_or_else(|| {
                policy_error(
                    &format!("{field}.maxDepthMm"),
                    "the maximum depth cannot be below the minimum",
                )
            })?;
            depth_ranges.insert(*area, range);
        }
        Ok(Self {
            time_zone,
            min_interval_days,
            recommended_interval_days,
            planned_sessions: in_range(
                "plannedSessions",
                changes.planned_sessions,
                self.planned_sessions,
                1..=20,
            )?,
            screening_valid_days: in_range(
                "screeningValidDays",
                changes.screening_valid_days,
                self.screening_valid_days,
                1..=365,
            )?,
            isotretinoin_washout_days: in_range(
                "isotretinoinWashoutDays",
                changes.isotretinoin_washout_days,
                self.isotretinoin_washout_days,
                0..=730,
            )?,
            session_lifetime_hours: in_range(
                "sessionLifetimeHours",
                changes.session_lifetime_hours,
                self.session_lifetime_hours,
                1..=72,
            )?,
            minimum_patient_age: in_range(
                "minimumPatientAge",
                changes.minimum_patient_age,
                self.minimum_patient_age,
                16..=99,
            )?,
            follow_up_max_attempts: in_range(
                "followUpMaxAttempts",
                changes.follow_up_max_attempts,
                self.follow_up_max_attempts,
                1..=10,
            )?,
            amendment_policy: changes.amendment_policy.unwrap_or(self.amendment_policy),
            depth_ranges,
            version: self.version,
            updated_at: self.updated_at,
        })
    }
}

/// Who may amend a signed procedure (R-RECORDS: a correction is an
/// amendment; this says whose). Every amendment is audited, whoever makes
/// it, and keeps who made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AmendmentPolicy {
    /// The provider who performed the procedure, and providers an admin
    /// designated as supervising (`User.supervisesAmendments`). The default.
    #[sea_orm(string_value = "PERFORMER_AND_SUPERVISORS")]
    PerformerAndSupervisors,
    /// Any provider, for clinics where colleagues correct each other's
    /// charts.
    #[sea_orm(string_value = "ANY_PROVIDER")]
    AnyProvider,
}

/// Who is asking to amend a procedure, as far as the amendment policy cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amender {
    /// Whether they performed the procedure.
    pub performed_it: bool,
    /// Whether an admin designated them as a supervising provider.
    pub supervises: bool,
}

impl AmendmentPolicy {
    /// Whether the policy lets this provider amend the procedure.
    pub fn allows(self, amender: Amender) -> bool {
        match self {
            Self::AnyProvider => true,
            Self::PerformerAndSupervisors => amender.performed_it || amender.supervises,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ClinicPolicy {
        let range = |min, max| {
            DepthRange::new(
                Depth::from_micrometres(min).unwrap(),
                Depth::from_micrometres(max).unwrap(),
            )
            .unwrap()
        };
        ClinicPolicy {
            time_zone: chrono_tz::America::New_York,
            min_interval_days: 42,
            recommended_interval_days: 56,
            planned_sessions: 3,
            screening_valid_days: 30,
            isotretinoin_washout_days: 182,
            session_lifetime_hours: 12,
            minimum_patient_age: 18,
            follow_up_max_attempts: 3,
            amendment_policy: AmendmentPolicy::PerformerAndSupervisors,
            depth_ranges: BTreeMap::from([(TreatmentArea::Cheeks, range(500, 1500))]),
            version: 1,
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn unchanged_fields_keep_their_values() {
        let changed = policy()
            .with_changes(&PolicyChanges {
                min_interval_days: Some(45),
                ..PolicyChanges::default()
            })
            .unwrap();
        assert_eq!(changed.min_interval_days, 45);
        assert_eq!(changed.recommended_interval_days, 56);
    }

    #[test]
    fn recommended_interval_cannot_undercut_the_minimum() {
        let error = policy()
            .with_changes(&PolicyChanges {
                min_interval_days: Some(60),
                ..PolicyChanges::default()
            })
            .unwrap_err();
        assert_eq!(error.field, "recommendedIntervalDays");
    }

    #[test]
    fn time_zone_must_be_iana() {
        let error = policy()
            .with_changes(&PolicyChanges {
                time_zone: Some("Mars/Olympus".into()),
                ..PolicyChanges::default()
            })
            .unwrap_err();
        assert_eq!(error.field, "timeZone");
        let ok = policy()
            .with_changes(&PolicyChanges {
                time_zone: Some("Europe/Paris".into()),
                ..PolicyChanges::default()
            })
            .unwrap();
        assert_eq!(ok.time_zone.name(), "Europe/Paris");
    }

    #[test]
    fn depth_ranges_are_validated() {
        let inverted = PolicyChanges {
            depth_ranges: vec![(TreatmentArea::Cheeks, 1.5, 0.5)],
            ..PolicyChanges::default()
        };
        assert_eq!(
            policy().with_changes(&inverted).unwrap_err().field,
            "depthGuidelines[0].maxDepthMm"
        );
        let negative = PolicyChanges {
            depth_ranges: vec![(TreatmentArea::Cheeks, -1.0, 0.5)],
            ..PolicyChanges::default()
        };
        assert_eq!(
            policy().with_changes(&negative).unwrap_err().field,
            "depthGuidelines[0].minDepthMm"
        );
    }

    #[test]
    fn counts_must_be_positive() {
        let error = policy()
            .with_changes(&PolicyChanges {
                planned_sessions: Some(0),
                ..PolicyChanges::default()
            })
            .unwrap_err();
        assert_eq!(error.field, "plannedSessions");
    }

    #[test]
    fn by_default_only_the_performer_and_supervisors_amend() {
        let policy = AmendmentPolicy::PerformerAndSupervisors;
        let colleague = Amender {
            performed_it: false,
            supervises: false,
        };
        assert!(!policy.allows(colleague));
        assert!(policy.allows(Amender {
            performed_it: true,
            ..colleague
        }));
        assert!(policy.allows(Amender {
            supervises: true,
            ..colleague
        }));
        assert!(AmendmentPolicy::AnyProvider.allows(colleague));
    }

    #[test]
    fn the_amendment_policy_changes_only_when_asked() {
        let current = policy();
        let kept = current.with_changes(&PolicyChanges::default());
        assert_eq!(
            kept.map(|next| next.amendment_policy),
            Ok(AmendmentPolicy::PerformerAndSupervisors)
        );
        let changed = current.with_changes(&PolicyChanges {
            amendment_policy: Some(AmendmentPolicy::AnyProvider),
            ..PolicyChanges::default()
        });
        assert_eq!(
            changed.map(|next| next.amendment_policy),
            Ok(AmendmentPolicy::AnyProvider)
        );
    }
}
