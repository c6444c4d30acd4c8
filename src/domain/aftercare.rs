//! The aftercare plan of a procedure (R-AFTERCARE): the DOMAIN.md
//! timeline, adapted to the areas treated, with calendar dates.

use std::collections::BTreeSet;

use async_graphql::Enum;
use chrono::{Duration, NaiveDate};

use super::treatment_area::TreatmentArea;

/// Which part of the aftercare timeline a step covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum)]
pub enum AftercarePhase {
    /// The day of the procedure.
    Day0,
    /// The day after.
    Day1,
    /// Days 2 to 7: dryness, flaking, shedding.
    Days2To7,
    /// Micro-bruising around the eyes, when that area was treated.
    PeriorbitalBruising,
    /// From day 7 on: the results show.
    Day7Onward,
    /// Every day: sun protection.
    Always,
}

/// One step of the aftercare timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AftercareStep {
    /// Which part of the timeline.
    pub phase: AftercarePhase,
    /// First day, counted from the procedure day (0).
    pub from_day: u32,
    /// Last day, if the step ends.
    pub to_day: Option<u32>,
    /// First calendar day (clinic time zone).
    pub from_date: NaiveDate,
    /// Last calendar day, if the step ends.
    pub to_date: Option<NaiveDate>,
    /// What to do.
    pub instructions: Vec<&'static str>,
    /// What to avoid.
    pub avoid: Vec<&'static str>,
    /// What is normal to see.
    pub expected_effects: Vec<&'static str>,
}

/// NSAIDs by name: they blunt the inflammation that drives the result.
const NSAIDS: &str = "anti-inflammatory medicines (NSAIDs) such as ibuprofen, Motrin or Advil";

fn step(
    procedure_day: NaiveDate,
    phase: AftercarePhase,
    (from_day, to_day): (u32, Option<u32>),
    instructions: Vec<&'static str>,
    avoid: Vec<&'static str>,
    expected_effects: Vec<&'static str>,
) -> AftercareStep {
    let date = |day: u32| procedure_day + Duration::days(i64::from(day));
    AftercareStep {
        phase,
        from_day,
        to_day,
        from_date: date(from_day),
        to_date: to_day.map(date),
        instructions,
        avoid,
        expected_effects,
    }
}

/// R-AFTERCARE: the aftercare timeline of a procedure on `procedure_day`
/// over `areas`; the periorbital bruising step only when that area was
/// treated.
pub fn aftercare_plan(
    procedure_day: NaiveDate,
    areas: &BTreeSet<TreatmentArea>,
) -> Vec<AftercareStep> {
    use AftercarePhase as P;
    let mut steps = vec![
        step(
            procedure_day,
            P::Day0,
            (0, Some(0)),
            vec![
                "Before the procedure, keep the area free of lotions, makeup and other topicals.",
                "After it, the provider may apply a lipopeptide booster, moisturizer and sunscreen.",
                "Use a gentle cleanser before bed.",
            ],
            vec![NSAIDS],
            vec!["Redness like a mild sunburn", "Tightness and warmth"],
        ),
        step(
            procedure_day,
            P::Day1,
            (1, Some(1)),
            vec![
                "Wash as usual; makeup and your usual products are allowed.",
                "Apply sunscreen SPF 30 or more.",
            ],
            vec!["Exfoliants and glycolic acid (they dry the skin)", NSAIDS],
            vec!["Fading redness"],
        ),
        step(
            procedure_day,
            P::Days2To7,
            (2, Some(7)),
            vec!["Use your usual moisturizer."],
            vec!["Exfoliants and glycolic acid", "Picking at flaking skin"],
            vec!["Dryness", "Flaking", "Shedding (faster cell turnover)"],
        ),
    ];
    if areas.contains(&TreatmentArea::Periorbital) {
        steps.push(step(
            procedure_day,
            P::PeriorbitalBruising,
            (0, Some(4)),
            vec!["Light bruising around the eyes can be covered with makeup."],
            vec![],
            vec!["Micro-bruising around the eyes for 3-4 days"],
        ));
    }
    steps.push(step(
        procedure_day,
        P::Day7Onward,
        (7, None),
        vec!["Continue your usual routine."],
        vec![],
        vec!["Smoother, more radiant skin"],
    ));
    steps.push(step(
        procedure_day,
        P::Always,
        (0, None),
        vec!["Apply sunscreen SPF 30 or more whenever exposed."],
        vec!["Tanning", "Long direct sun exposure"],
        vec![],
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn r_aftercare_adds_bruising_only_for_the_eye_area() {
        let cheeks: BTreeSet<_> = [TreatmentArea::Cheeks].into();
        let eyes: BTreeSet<_> = [TreatmentArea::Cheeks, TreatmentArea::Periorbital].into();
        let phases = |areas| {
            aftercare_plan(day(2026, 3, 1), areas)
                .iter()
                .map(|s| s.phase)
                .collect::<Vec<_>>()
        };
        assert!(!phases(&cheeks).contains(&AftercarePhase::PeriorbitalBruising));
        assert!(phases(&eyes).contains(&AftercarePhase::PeriorbitalBruising));
        assert_eq!(phases(&cheeks).len(), 5);
    }

    #[test]
    fn r_aftercare_names_nsaids_and_dates_each_step() {
        let plan = aftercare_plan(day(2028, 2, 27), &[TreatmentArea::Neck].into());
        let day0 = &plan[0];
        assert!(
            day0.avoid
                .iter()
                .any(|a| a.contains("ibuprofen") && a.contains("Motrin") && a.contains("Advil"))
        );
        let healing = plan
            .iter()
            .find(|s| s.phase == AftercarePhase::Days2To7)
            .unwrap();
        // 2028 is a leap year: Feb 27 + 2 = Feb 29, + 7 = Mar 5.
        assert_eq!(healing.from_date, day(2028, 2, 29));
        assert_eq!(healing.to_date, Some(day(2028, 3, 5)));
        let always = plan.last().unwrap();
        assert!(always.avoid.contains(&"Tanning"));
        assert_eq!(always.to_date, None);
    }
}
