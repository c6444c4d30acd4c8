//! Follow-ups after a procedure (R-FOLLOWUP), the channel they use
//! (R-CONTACT) and what counts as an adverse event (R-ADVERSE).

use std::collections::BTreeSet;

use async_graphql::Enum;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

use super::{patient::ContactChannel, treatment_area::TreatmentArea};

/// What a follow-up is for (DOMAIN.md follow-up schedule).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Enum,
    DeriveActiveEnum,
    EnumIter,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
// Webhook payloads and the event fan-out spell values as the API does.
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FollowUpKind {
    /// The day after: how is the skin?
    #[sea_orm(string_value = "DAY_1_CHECK")]
    #[serde(rename = "DAY_1_CHECK")]
    Day1Check,
    /// Day 3: dryness, flaking, shedding as expected?
    #[sea_orm(string_value = "HEALING_CHECK")]
    HealingCheck,
    /// Day 4, only after periorbital treatment: bruising fading?
    #[sea_orm(string_value = "BRUISING_CHECK")]
    BruisingCheck,
    /// Day 7: review of the result.
    #[sea_orm(string_value = "WEEK_1_REVIEW")]
    #[serde(rename = "WEEK_1_REVIEW")]
    Week1Review,
    /// Book the plan's next session.
    #[sea_orm(string_value = "NEXT_SESSION")]
    NextSession,
    /// A year after the plan's last session: book the refresher.
    #[sea_orm(string_value = "ANNUAL_REFRESHER")]
    AnnualRefresher,
    /// R-ADVERSE: a provider reviews a reported adverse event, now.
    #[sea_orm(string_value = "PROVIDER_REVIEW")]
    ProviderReview,
}

/// Where a follow-up stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Enum,
    DeriveActiveEnum,
    EnumIter,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FollowUpStatus {
    /// To do.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Done: the patient was reached.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Not reached after the policy's number of attempts.
    #[sea_orm(string_value = "MISSED")]
    Missed,
    /// Called off, with a reason.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// What a patient reports at a follow-up.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, DeriveActiveEnum, EnumIter,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum Symptom {
    /// Dry skin (expected days 2-7).
    #[sea_orm(string_value = "DRYNESS")]
    Dryness,
    /// Flaking (expected days 2-7).
    #[sea_orm(string_value = "FLAKING")]
    Flaking,
    /// Shedding (expected days 2-7).
    #[sea_orm(string_value = "SHEDDING")]
    Shedding,
    /// Redness (expected early; adverse past day 7).
    #[sea_orm(string_value = "REDNESS")]
    Redness,
    /// Swelling (expected early; adverse past day 7).
    #[sea_orm(string_value = "SWELLING")]
    Swelling,
    /// Bruising of the treated area; light micro-bruising for 3-4 days is
    /// expected after PERIORBITAL treatment.
    #[sea_orm(string_value = "BRUISING")]
    Bruising,
    /// Itching of the treated skin; does not flag the procedure by itself.
    #[sea_orm(string_value = "ITCHING")]
    Itching,
    /// Pain or tenderness in the treated area; does not flag the procedure by
    /// itself (report an adverse event when it is of concern).
    #[sea_orm(string_value = "PAIN")]
    Pain,
    /// Pus, heat, spreading redness, fever: always adverse.
    #[sea_orm(string_value = "SIGNS_OF_INFECTION")]
    SignsOfInfection,
}

/// Kinds of adverse event (R-ADVERSE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AdverseEventKind {
    /// Infection of the treated area: pus, heat, spreading redness, fever.
    #[sea_orm(string_value = "INFECTION")]
    Infection,
    /// Redness or swelling past day 7.
    #[sea_orm(string_value = "PROLONGED_INFLAMMATION")]
    ProlongedInflammation,
    /// Post-inflammatory hyperpigmentation.
    #[sea_orm(string_value = "HYPERPIGMENTATION")]
    Hyperpigmentation,
    /// New scarring of the treated area.
    #[sea_orm(string_value = "SCARRING")]
    Scarring,
    /// An allergic reaction, e.g. to the numbing cream, a product applied or
    /// the needles' metal.
    #[sea_orm(string_value = "ALLERGIC_REACTION")]
    AllergicReaction,
    /// Anything else a provider must see.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// How serious an adverse event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Severity {
    /// Bothers the patient but needs no care beyond the aftercare plan.
    #[sea_orm(string_value = "MILD")]
    Mild,
    /// Needs a provider's treatment or advice, but not urgently.
    #[sea_orm(string_value = "MODERATE")]
    Moderate,
    /// Needs urgent medical attention.
    #[sea_orm(string_value = "SEVERE")]
    Severe,
}

/// The time of day follow-ups fall due, in the clinic's time zone.
pub const DUE_TIME: NaiveTime = match NaiveTime::from_hms_opt(10, 0, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// The facts the follow-up schedule depends on.
#[derive(Clone, Debug)]
pub struct CompletedSession {
    /// The procedure's day in the clinic's time zone.
    pub day: NaiveDate,
    /// Areas treated.
    pub areas: BTreeSet<TreatmentArea>,
    /// Sessions of the plan still to do after this one; `None` without a
    /// plan.
    pub sessions_left: Option<u32>,
}

/// R-FOLLOWUP: the follow-ups of a completed session and the day each is
/// due: day 1, 3, (4 if periorbital), 7, then the next session after the
/// recommended interval (never earlier than the minimum) while the plan
/// has sessions left, or the annual refresher after its last one.
pub fn follow_up_schedule(
    session: &CompletedSession,
    min_interval_days: u32,
    recommended_interval_days: u32,
) -> Vec<(FollowUpKind, NaiveDate)> {
    let after = |days: u32| session.day + Duration::days(i64::from(days));
    let mut schedule = vec![
        (FollowUpKind::Day1Check, after(1)),
        (FollowUpKind::HealingCheck, after(3)),
    ];
    if session.areas.contains(&TreatmentArea::Periorbital) {
        schedule.push((FollowUpKind::BruisingCheck, after(4)));
    }
    schedule.push((FollowUpKind::Week1Review, after(7)));
    match session.sessions_left {
        Some(left) if left > 0 => schedule.push((
            FollowUpKind::NextSession,
            after(recommended_interval_days.max(min_interval_days)),
        )),
        Some(_) => schedule.push((FollowUpKind::AnnualRefresher, after(365))),
        None => {}
    }
    schedule
}

/// The instant a follow-up due on `day` falls due: [`DUE_TIME`] in the
/// clinic's time zone (on a daylight-saving gap, the first valid instant
/// after it).
pub fn due_instant(day: NaiveDate, time_zone: Tz) -> DateTime<Utc> {
    let local = day.and_time(DUE_TIME);
    time_zone
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            time_zone
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |instant| instant.with_timezone(&Utc))
}

/// The first and the first-after instants of `day` in the clinic's time
/// zone: the "due today" window of the worklist.
pub fn day_window(day: NaiveDate, time_zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start_of = |day: NaiveDate| {
        time_zone
            .from_local_datetime(&day.and_time(NaiveTime::MIN))
            .earliest()
            .map_or_else(
                || day.and_time(NaiveTime::MIN).and_utc(),
                |instant| instant.with_timezone(&Utc),
            )
    };
    (start_of(day), start_of(day + Duration::days(1)))
}

/// R-CONTACT: the channel a follow-up uses: the patient's preferred one if
/// they consent to it, else the first consented of phone, text, email;
/// in person (always allowed) when they consent to none.
pub fn follow_up_channel(
    preferred: Option<ContactChannel>,
    consented: &BTreeSet<ContactChannel>,
) -> ContactChannel {
    preferred
        .filter(|channel| consented.contains(channel))
        .or_else(|| {
            [
                ContactChannel::Phone,
                ContactChannel::Text,
                ContactChannel::Email,
            ]
            .into_iter()
            .find(|channel| consented.contains(channel))
        })
        .unwrap_or(ContactChannel::InPerson)
}

/// R-ADVERSE: whether a follow-up's report is an adverse event: one was
/// reported, or signs of infection, or redness or swelling past day 7.
pub fn is_adverse(
    reported_event: bool,
    symptoms: &BTreeSet<Symptom>,
    days_since_procedure: i64,
) -> bool {
    reported_event
        || symptoms.contains(&Symptom::SignsOfInfection)
        || (days_since_procedure > 7
            && (symptoms.contains(&Symptom::Redness) || symptoms.contains(&Symptom::Swelling)))
}

/// After a failed attempt: MISSED once `attempts` reaches the policy's
/// maximum, else still PENDING.
pub fn status_after_unanswered(attempts: u32, max_attempts: u32) -> FollowUpStatus {
    if attempts >= max_attempts {
        FollowUpStatus::Missed
    } else {
        FollowUpStatus::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn session(areas: &[TreatmentArea], sessions_left: Option<u32>) -> CompletedSession {
        CompletedSession {
            day: day(2026, 3, 1),
            areas: areas.iter().copied().collect(),
            sessions_left,
        }
    }

    #[test]
    fn r_followup_first_session_of_three_books_the_next() {
        let plan = follow_up_schedule(&session(&[TreatmentArea::Cheeks], Some(2)), 42, 56);
        assert_eq!(
            plan,
            vec![
                (FollowUpKind::Day1Check, day(2026, 3, 2)),
                (FollowUpKind::HealingCheck, day(2026, 3, 4)),
                (FollowUpKind::Week1Review, day(2026, 3, 8)),
                (FollowUpKind::NextSession, day(2026, 4, 26)),
            ]
        );
    }

    #[test]
    fn r_followup_periorbital_adds_a_bruising_check_and_the_last_session_a_refresher() {
        let plan = follow_up_schedule(&session(&[TreatmentArea::Periorbital], Some(0)), 42, 56);
        let kinds: Vec<_> = plan.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(
            kinds,
            [
                FollowUpKind::Day1Check,
                FollowUpKind::HealingCheck,
                FollowUpKind::BruisingCheck,
                FollowUpKind::Week1Review,
                FollowUpKind::AnnualRefresher
            ]
        );
        assert_eq!(plan[2].1, day(2026, 3, 5));
        assert_eq!(plan[4].1, day(2027, 3, 1));
    }

    #[test]
    fn r_followup_next_session_is_never_before_the_minimum_interval() {
        let plan = follow_up_schedule(&session(&[TreatmentArea::Neck], Some(1)), 60, 45);
        assert_eq!(
            plan.last(),
            Some(&(FollowUpKind::NextSession, day(2026, 4, 30)))
        );
    }

    #[test]
    fn due_times_are_10_am_in_the_clinic_time_zone() {
        let new_york: Tz = "America/New_York".parse().unwrap();
        // Standard time (UTC-5) and daylight time (UTC-4).
        assert_eq!(
            due_instant(day(2026, 1, 15), new_york).to_rfc3339(),
            "2026-01-15T15:00:00+00:00"
        );
        assert_eq!(
            due_instant(day(2026, 7, 15), new_york).to_rfc3339(),
            "2026-07-15T14:00:00+00:00"
        );
        let (start, end) = day_window(day(2026, 3, 8), new_york); // DST starts: a 23-hour day
        assert_eq!(start.to_rfc3339(), "2026-03-08T05:00:00+00:00");
        assert_eq!((end - start).num_hours(), 23);
    }

    #[test]
    fn r_contact_preferred_channel_first_then_any_consented_then_in_person() {
        let text_email: BTreeSet<_> = [ContactChannel::Text, ContactChannel::Email].into();
        assert_eq!(
            follow_up_channel(Some(ContactChannel::Email), &text_email),
            ContactChannel::Email
        );
        assert_eq!(
            follow_up_channel(Some(ContactChannel::Phone), &text_email),
            ContactChannel::Text
        );
        assert_eq!(
            follow_up_channel(None, &BTreeSet::new()),
            ContactChannel::InPerson
        );
    }

    #[test]
    fn r_adverse_infection_always_redness_only_past_day_7() {
        let redness: BTreeSet<_> = [Symptom::Redness].into();
        assert!(!is_adverse(false, &redness, 3));
        assert!(!is_adverse(false, &redness, 7));
        assert!(is_adverse(false, &redness, 8));
        assert!(is_adverse(false, &[Symptom::SignsOfInfection].into(), 1));
        assert!(is_adverse(true, &BTreeSet::new(), 1));
        assert!(!is_adverse(
            false,
            &[Symptom::Dryness, Symptom::Flaking].into(),
            9
        ));
    }

    #[test]
    fn unanswered_follow_ups_are_missed_after_the_policy_attempts() {
        assert_eq!(status_after_unanswered(1, 3), FollowUpStatus::Pending);
        assert_eq!(status_after_unanswered(3, 3), FollowUpStatus::Missed);
    }
}
