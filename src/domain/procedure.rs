//! The micro-needling procedure: its lifecycle, the interval between
//! sessions (R-INTERVAL), the pre-procedure checklist (R-PREP), the depth
//! decision (R-DEPTH) and the post-care record (R-POSTCARE).

use async_graphql::Enum;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

use super::depth::{Depth, DepthRange};

/// Where a procedure stands: SCHEDULED → IN_PROGRESS → COMPLETED → SIGNED,
/// or CANCELLED before it is completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProcedureStatus {
    /// Booked.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// Started: checklist done, device sessions being charted.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// Finished and post-care recorded; awaiting the provider's signature.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Signed by the performing provider: immutable, corrected only by
    /// amendments (R-RECORDS).
    #[sea_orm(string_value = "SIGNED")]
    Signed,
    /// Called off before it was completed.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

impl ProcedureStatus {
    /// Whether the procedure counts for R-INTERVAL and holds the
    /// provider's time (R-BOOKING): every status but CANCELLED.
    pub fn counts(self) -> bool {
        self != Self::Cancelled
    }

    /// Whether the session was performed (a plan's session is done).
    pub fn is_performed(self) -> bool {
        matches!(self, Self::Completed | Self::Signed)
    }
}

/// How the needles were moved across the area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum NeedlingPattern {
    /// Side to side.
    #[sea_orm(string_value = "HORIZONTAL")]
    Horizontal,
    /// Up and down.
    #[sea_orm(string_value = "VERTICAL")]
    Vertical,
    /// Corner to corner.
    #[sea_orm(string_value = "DIAGONAL")]
    Diagonal,
    /// Horizontal, vertical and diagonal passes crossed.
    #[sea_orm(string_value = "CROSSHATCH")]
    Crosshatch,
    /// Small circles.
    #[sea_orm(string_value = "CIRCULAR")]
    Circular,
    /// Single vertical stamps (scars, rollers' stamp mode).
    #[sea_orm(string_value = "STAMPING")]
    Stamping,
}

/// The skin response the provider needled to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum ClinicalEndpoint {
    /// Even redness.
    #[sea_orm(string_value = "ERYTHEMA")]
    Erythema,
    /// Tiny points of bleeding.
    #[sea_orm(string_value = "PINPOINT_BLEEDING")]
    PinpointBleeding,
    /// Serum seeping from the channels.
    #[sea_orm(string_value = "SEROUS_EXUDATE")]
    SerousExudate,
    /// Stopped before an endpoint (patient comfort, skin response).
    #[sea_orm(string_value = "STOPPED_EARLY")]
    StoppedEarly,
}

/// The calendar day of an instant in the clinic's time zone: the days of
/// R-INTERVAL and of due dates are counted in it.
pub fn clinic_day(instant: DateTime<Utc>, time_zone: Tz) -> NaiveDate {
    instant.with_timezone(&time_zone).date_naive()
}

/// R-INTERVAL: the first day on or after `wanted` that is at least
/// `min_days` away from every day in `others` (the patient's other,
/// non-cancelled procedures, before and after).
pub fn earliest_allowed_day(wanted: NaiveDate, others: &[NaiveDate], min_days: u32) -> NaiveDate {
    let min = i64::from(min_days);
    let mut day = wanted;
    // Each pass moves past one clash; `day` only grows, so this ends after
    // at most `others.len()` moves.
    while let Some(clash) = others
        .iter()
        .filter(|other| (day - **other).num_days().abs() < min)
        .max()
    {
        day = *clash + Duration::days(min);
    }
    day
}

/// R-INTERVAL: `Ok` when `wanted` is at least `min_days` from every other
/// procedure day, else the earliest allowed day on or after it.
///
/// # Errors
/// The earliest allowed day when `wanted` is too close to another.
pub fn check_interval(
    wanted: NaiveDate,
    others: &[NaiveDate],
    min_days: u32,
) -> Result<(), NaiveDate> {
    let earliest = earliest_allowed_day(wanted, others, min_days);
    if earliest == wanted {
        Ok(())
    } else {
        Err(earliest)
    }
}

/// R-SERIES / R-INTERVAL: the first day the patient's next session may be
/// booked, given the day of their latest non-cancelled procedure.
pub fn earliest_next_procedure(
    latest: Option<NaiveDate>,
    today: NaiveDate,
    min_days: u32,
) -> NaiveDate {
    latest.map_or(today, |day| {
        (day + Duration::days(i64::from(min_days))).max(today)
    })
}

/// Longest a numbing cream may have been on before the procedure starts:
/// older applications are a charting error.
pub const MAX_NUMBING_AGE: Duration = Duration::hours(3);

/// The pre-procedure checklist as charted (R-PREP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrepChecklist {
    /// The area is free of lotions, makeup and other topicals.
    pub area_free_of_topicals: bool,
    /// The provider confirmed the signed consent with the patient.
    pub consent_confirmed: bool,
    /// Numbing cream product name.
    pub numbing_product: String,
    /// When the numbing cream was applied.
    pub numbing_applied_at: DateTime<Utc>,
}

/// A checklist item that is missing or wrong, naming its input field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChecklistProblem {
    /// The input field at fault.
    pub field: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

/// R-PREP: the checklist is complete and plausible at `now`.
///
/// # Errors
/// The first [`ChecklistProblem`].
pub fn check_prep(prep: &PrepChecklist, now: DateTime<Utc>) -> Result<(), ChecklistProblem> {
    let problem = |field, message| Err(ChecklistProblem { field, message });
    if !prep.area_free_of_topicals {
        return problem(
            "prep.areaFreeOfTopicals",
            "the treatment area must be free of lotions, makeup and other topicals",
        );
    }
    if !prep.consent_confirmed {
        return problem(
            "prep.consentConfirmed",
            "confirm the signed consent with the patient before starting",
        );
    }
    let product = prep.numbing_product.trim();
    if product.is_empty() || product.chars().count() > 200 {
        return problem(
            "prep.numbingProduct",
            "name the numbing cream applied (1 to 200 characters)",
        );
    }
    if prep.numbing_applied_at > now + Duration::minutes(5) {
        return problem("prep.numbingAppliedAt", "cannot be in the future");
    }
    if prep.numbing_applied_at < now - MAX_NUMBING_AGE {
        return problem(
            "prep.numbingAppliedAt",
            "numbing cream applied more than 3 hours ago; reapply and chart the new time",
        );
    }
    Ok(())
}

/// R-PREP: minutes from numbing-cream application to the first needle.
pub fn dwell_minutes(numbing_applied_at: DateTime<Utc>, first_needle_at: DateTime<Utc>) -> i64 {
    (first_needle_at - numbing_applied_at).num_minutes()
}

/// Why a needle depth is refused (R-DEPTH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DepthProblem {
    /// Deeper than the device or cartridge allows; no override possible.
    #[error("{depth} is deeper than the {limited_by}'s labelled maximum of {limit}")]
    ExceedsDevice {
        /// The depth asked for.
        depth: Depth,
        /// The labelled maximum.
        limit: Depth,
        /// "device" or "cartridge".
        limited_by: &'static str,
    },
    /// Outside the area's guideline range and no override reason given.
    #[error(
        "{depth} is outside this area's guideline range of {} to {}; record an override reason to proceed",
        range.min, range.max
    )]
    OutOfRange {
        /// The depth asked for.
        depth: Depth,
        /// The guideline range.
        range: DepthRange,
    },
}

/// What the depth decision allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthVerdict {
    /// Within the guideline range.
    WithinGuideline,
    /// Outside the guideline range, allowed by the provider's override.
    Overridden,
}

/// R-DEPTH: a depth never above the device's or cartridge's labelled
/// maximum; outside the area's guideline range only with an override
/// reason. An area without a guideline range has no range to leave.
///
/// # Errors
/// A [`DepthProblem`].
pub fn check_depth(
    depth: Depth,
    device_max: Depth,
    cartridge_max: Depth,
    guideline: Option<DepthRange>,
    override_reason: Option<&str>,
) -> Result<DepthVerdict, DepthProblem> {
    for (limit, limited_by) in [(device_max, "device"), (cartridge_max, "cartridge")] {
        if depth > limit {
            return Err(DepthProblem::ExceedsDevice {
                depth,
                limit,
                limited_by,
            });
        }
    }
    match guideline {
        Some(range) if !range.contains(depth) => {
            if override_reason.is_some_and(|reason| !reason.trim().is_empty()) {
                Ok(DepthVerdict::Overridden)
            } else {
                Err(DepthProblem::OutOfRange { depth, range })
            }
        }
        _ => Ok(DepthVerdict::WithinGuideline),
    }
}

/// Lowest sun protection factor accepted after needling (R-POSTCARE).
pub const MIN_SUNSCREEN_SPF: i32 = 30;

/// What was applied after needling (R-POSTCARE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostCare {
    /// A lipopeptide booster serum was applied.
    pub lipopeptide_booster: bool,
    /// A moisturizer was applied.
    pub moisturizer: bool,
    /// SPF of the sunscreen applied.
    pub sunscreen_spf: i32,
}

/// R-POSTCARE: sunscreen of SPF 30 or more is always applied (the
/// booster and moisturizer are recorded either way).
///
/// # Errors
/// A [`ChecklistProblem`] naming `postCare.sunscreenSpf`.
pub fn check_post_care(post_care: &PostCare) -> Result<(), ChecklistProblem> {
    if post_care.sunscreen_spf < MIN_SUNSCREEN_SPF || post_care.sunscreen_spf > 100 {
        return Err(ChecklistProblem {
            field: "postCare.sunscreenSpf",
            message: "sunscreen of SPF 30 or more (up to 100) must be applied after needling",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn r_interval_41_days_is_refused_and_42_accepted() {
        let first = day(2026, 1, 1);
        assert_eq!(
            check_interval(first + Duration::days(41), &[first], 42),
            Err(day(2026, 2, 12))
        );
        assert_eq!(
            check_interval(first + Duration::days(42), &[first], 42),
            Ok(())
        );
    }

    #[test]
    fn r_interval_checks_later_procedures_too() {
        let later = day(2026, 6, 1);
        // 41 days before a later procedure is as bad as 41 days after.
        assert_eq!(
            check_interval(later - Duration::days(41), &[later], 42),
            Err(later + Duration::days(42))
        );
        assert_eq!(
            check_interval(later - Duration::days(42), &[later], 42),
            Ok(())
        );
    }

    #[test]
    fn r_interval_between_two_procedures_needs_room_on_both_sides() {
        let before = day(2026, 1, 1);
        let after = day(2026, 3, 30); // 88 days later
        let middle = before + Duration::days(44); // 44 after, 44 before
        assert_eq!(check_interval(middle, &[before, after], 42), Ok(()));
        let too_close_to_after = before + Duration::days(50); // 38 before `after`
        assert_eq!(
            check_interval(too_close_to_after, &[before, after], 42),
            Err(after + Duration::days(42))
        );
    }

    #[test]
    fn r_interval_counts_calendar_days_across_leap_day() {
        let first = day(2028, 2, 1);
        // 2028 is a leap year: Feb 1 + 42 days = Mar 14.
        assert_eq!(earliest_allowed_day(first, &[first], 42), day(2028, 3, 14));
        assert_eq!(
            check_interval(day(2028, 3, 13), &[first], 42),
            Err(day(2028, 3, 14))
        );
    }

    #[test]
    fn r_interval_days_are_counted_in_the_clinic_time_zone() {
        let new_york: Tz = "America/New_York".parse().unwrap();
        // 23:30 in New York on Jan 1 is already Jan 2 in UTC.
        let late_evening = DateTime::parse_from_rfc3339("2026-01-02T04:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(clinic_day(late_evening, new_york), day(2026, 1, 1));
        assert_eq!(clinic_day(late_evening, Tz::UTC), day(2026, 1, 2));
    }

    #[test]
    fn next_session_is_never_before_today() {
        let today = day(2026, 11, 24);
        assert_eq!(earliest_next_procedure(None, today, 42), today);
        assert_eq!(
            earliest_next_procedure(Some(day(2026, 11, 1)), today, 42),
            day(2026, 12, 13)
        );
        assert_eq!(
            earliest_next_procedure(Some(day(2025, 1, 1)), today, 42),
            today
        );
    }

    proptest! {
        #[test]
        fn r_interval_earliest_allowed_day_respects_every_gap_and_is_the_first(
            offsets in proptest::collection::vec(0i64..400, 0..6),
            wanted in 0i64..400,
            min in 1u32..90,
        ) {
            let origin = day(2026, 1, 1);
            let others: Vec<_> = offsets.iter().map(|d| origin + Duration::days(*d)).collect();
            let wanted = origin + Duration::days(wanted);
            let earliest = earliest_allowed_day(wanted, &others, min);
            prop_assert!(earliest >= wanted);
            for other in &others {
                prop_assert!((earliest - *other).num_days().abs() >= i64::from(min));
            }
            // No day between the wanted one and the answer would have done.
            let mut candidate = wanted;
            while candidate < earliest {
                prop_assert!(others.iter().any(|o| (candidate - *o).num_days().abs() < i64::from(min)));
                candidate += Duration::days(1);
            }
        }
    }

    fn depth(mm: f64) -> Depth {
        Depth::from_mm(mm).unwrap()
    }

    fn periorbital() -> Option<DepthRange> {
        DepthRange::new(depth(0.25), depth(0.5))
    }

    #[test]
    fn r_depth_exactly_at_the_limits_is_allowed() {
        assert_eq!(
            check_depth(depth(0.5), depth(0.5), depth(2.0), periorbital(), None),
            Ok(DepthVerdict::WithinGuideline)
        );
        assert_eq!(
            check_depth(depth(0.25), depth(2.5), depth(2.5), periorbital(), None),
            Ok(DepthVerdict::WithinGuideline)
        );
    }

    #[test]
    fn r_depth_above_device_or_cartridge_is_refused_even_with_override() {
        assert!(matches!(
            check_depth(
                depth(0.501),
                depth(0.5),
                depth(2.0),
                periorbital(),
                Some("scar")
            ),
            Err(DepthProblem::ExceedsDevice {
                limited_by: "device",
                ..
            })
        ));
        assert!(matches!(
            check_depth(depth(1.0), depth(2.0), depth(0.75), None, Some("scar")),
            Err(DepthProblem::ExceedsDevice {
                limited_by: "cartridge",
                ..
            })
        ));
    }

    #[test]
    fn r_depth_outside_guideline_needs_a_reason() {
        assert!(matches!(
            check_depth(depth(0.75), depth(2.0), depth(2.0), periorbital(), None),
            Err(DepthProblem::OutOfRange { .. })
        ));
        assert!(matches!(
            check_depth(
                depth(0.75),
                depth(2.0),
                depth(2.0),
                periorbital(),
                Some("  ")
            ),
            Err(DepthProblem::OutOfRange { .. })
        ));
        assert_eq!(
            check_depth(
                depth(0.75),
                depth(2.0),
                depth(2.0),
                periorbital(),
                Some("thick skin")
            ),
            Ok(DepthVerdict::Overridden)
        );
    }

    fn prep(now: DateTime<Utc>) -> PrepChecklist {
        PrepChecklist {
            area_free_of_topicals: true,
            consent_confirmed: true,
            numbing_product: "BLT 20/6/4".to_owned(),
            numbing_applied_at: now - Duration::minutes(30),
        }
    }

    #[test]
    fn r_prep_requires_every_item() {
        let now = Utc::now();
        assert_eq!(check_prep(&prep(now), now), Ok(()));
        let fields: Vec<_> = [
            PrepChecklist {
                area_free_of_topicals: false,
                ..prep(now)
            },
            PrepChecklist {
                consent_confirmed: false,
                ..prep(now)
            },
            PrepChecklist {
                numbing_product: " ".to_owned(),
                ..prep(now)
            },
            PrepChecklist {
                numbing_applied_at: now + Duration::hours(1),
                ..prep(now)
            },
            PrepChecklist {
                numbing_applied_at: now - Duration::hours(4),
                ..prep(now)
            },
        ]
        .iter()
        .map(|checklist| check_prep(checklist, now).unwrap_err().field)
        .collect();
        assert_eq!(
            fields,
            [
                "prep.areaFreeOfTopicals",
                "prep.consentConfirmed",
                "prep.numbingProduct",
                "prep.numbingAppliedAt",
                "prep.numbingAppliedAt"
            ]
        );
    }

    #[test]
    fn r_prep_dwell_time_runs_from_application_to_first_needle() {
        let applied = Utc::now();
        assert_eq!(dwell_minutes(applied, applied + Duration::minutes(45)), 45);
    }

    #[test]
    fn r_postcare_needs_spf_30_or_more() {
        let care = PostCare {
            lipopeptide_booster: true,
            moisturizer: true,
            sunscreen_spf: 30,
        };
        assert_eq!(check_post_care(&care), Ok(()));
        assert!(
            check_post_care(&PostCare {
                sunscreen_spf: 29,
                ..care
            })
            .is_err()
        );
        assert!(
            check_post_care(&PostCare {
                sunscreen_spf: 0,
                ..care
            })
            .is_err()
        );
    }

    #[test]
    fn only_cancelled_procedures_stop_counting() {
        assert!(!ProcedureStatus::Cancelled.counts());
        assert!(ProcedureStatus::Signed.counts());
        assert!(ProcedureStatus::Signed.is_performed());
        assert!(!ProcedureStatus::InProgress.is_performed());
    }
}
