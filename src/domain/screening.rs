//! The contraindication screening (R-SCREENING): every question of
//! DOMAIN.md answered, findings sorted into absolute (block), relative
//! (block unless a provider records an override reason) and advisory.

use std::collections::BTreeSet;

use async_graphql::Enum;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::patient::FitzpatrickType;

/// A finding of the screening.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, Serialize, Deserialize,
)]
pub enum Contraindication {
    /// Active skin infection or inflammatory acne in the area (absolute).
    ActiveSkinInfection,
    /// Active herpes simplex outbreak (absolute).
    ActiveHerpesOutbreak,
    /// Pregnancy (absolute).
    Pregnancy,
    /// Open wounds in the area (absolute).
    OpenWounds,
    /// Isotretinoin within the policy's wash-out (relative).
    RecentIsotretinoin,
    /// History of keloid or hypertrophic scarring (relative).
    KeloidHistory,
    /// Anticoagulants or a bleeding disorder (relative).
    AnticoagulantsOrBleedingDisorder,
    /// Uncontrolled diabetes (relative).
    UncontrolledDiabetes,
    /// Immunosuppression, chemotherapy or radiotherapy (relative).
    Immunosuppression,
    /// Eczema, psoriasis or rosacea in the area (relative).
    EczemaPsoriasisRosacea,
    /// Allergy to topical anaesthetics or to metal (relative).
    AnaestheticOrMetalAllergy,
    /// History of herpes simplex: antiviral prophylaxis (relative).
    HerpesHistory,
    /// Fitzpatrick IV-VI: hyperpigmentation risk (advisory only).
    HyperpigmentationRisk,
}

/// How a finding weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Blocks treatment.
    Absolute,
    /// Blocks unless a provider overrides with a reason.
    Relative,
    /// Shown to the provider; never blocks.
    Advisory,
}

impl Contraindication {
    /// The weight DOMAIN.md gives this finding.
    pub fn severity(self) -> Severity {
        match self {
            Self::ActiveSkinInfection
            | Self::ActiveHerpesOutbreak
            | Self::Pregnancy
            | Self::OpenWounds => Severity::Absolute,
            Self::HyperpigmentationRisk => Severity::Advisory,
            _ => Severity::Relative,
        }
    }
}

/// The answers to every screening question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct ScreeningAnswers {
    /// Active skin infection or inflammatory acne in the area.
    pub active_skin_infection: bool,
    /// Active herpes simplex outbreak.
    pub active_herpes_outbreak: bool,
    /// Pregnant.
    pub pregnant: bool,
    /// Open wounds in the area.
    pub open_wounds: bool,
    /// Last isotretinoin dose, if ever.
    pub isotretinoin_last_dose: Option<NaiveDate>,
    /// History of keloid or hypertrophic scarring.
    pub keloid_history: bool,
    /// Anticoagulants or a bleeding disorder.
    pub anticoagulants_or_bleeding_disorder: bool,
    /// Uncontrolled diabetes.
    pub uncontrolled_diabetes: bool,
    /// Immunosuppression, chemotherapy or radiotherapy.
    pub immunosuppression: bool,
    /// Eczema, psoriasis or rosacea in the area.
    pub eczema_psoriasis_rosacea: bool,
    /// Allergy to topical anaesthetics or to metal.
    pub anaesthetic_or_metal_allergy: bool,
    /// History of herpes simplex.
    pub herpes_history: bool,
    /// Fitzpatrick skin type.
    pub fitzpatrick_type: FitzpatrickType,
}

impl ScreeningAnswers {
    /// A patient who answers no to every question; the skin type is asked
    /// of everyone.
    pub fn nothing_to_report(fitzpatrick_type: FitzpatrickType) -> Self {
        Self {
            active_skin_infection: false,
            active_herpes_outbreak: false,
            pregnant: false,
            open_wounds: false,
            isotretinoin_last_dose: None,
            keloid_history: false,
            anticoagulants_or_bleeding_disorder: false,
            uncontrolled_diabetes: false,
            immunosuppression: false,
            eczema_psoriasis_rosacea: false,
            anaesthetic_or_metal_allergy: false,
            herpes_history: false,
            fitzpatrick_type,
        }
    }
}

/// What the screening found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScreeningFindings {
    /// Block treatment.
    pub absolute: BTreeSet<Contraindication>,
    /// Block unless overridden by a provider with a reason.
    pub relative: BTreeSet<Contraindication>,
    /// Never block.
    pub advisories: BTreeSet<Contraindication>,
}

/// Sorts the answers into findings; isotretinoin counts when its last dose
/// is within `isotretinoin_washout_days` of `today`.
pub fn evaluate(
    answers: &ScreeningAnswers,
    today: NaiveDate,
    isotretinoin_washout_days: u32,
) -> ScreeningFindings {
    use Contraindication as C;
    let recent_isotretinoin = answers.isotretinoin_last_dose.is_some_and(|dose| {
        dose <= today && today - dose < Duration::days(i64::from(isotretinoin_washout_days))
    });
    let found = [
        (answers.active_skin_infection, C::ActiveSkinInfection),
        (answers.active_herpes_outbreak, C::ActiveHerpesOutbreak),
        (answers.pregnant, C::Pregnancy),
        (answers.open_wounds, C::OpenWounds),
        (recent_isotretinoin, C::RecentIsotretinoin),
        (answers.keloid_history, C::KeloidHistory),
        (
            answers.anticoagulants_or_bleeding_disorder,
            C::AnticoagulantsOrBleedingDisorder,
        ),
        (answers.uncontrolled_diabetes, C::UncontrolledDiabetes),
        (answers.immunosuppression, C::Immunosuppression),
        (answers.eczema_psoriasis_rosacea, C::EczemaPsoriasisRosacea),
        (
            answers.anaesthetic_or_metal_allergy,
            C::AnaestheticOrMetalAllergy,
        ),
        (answers.herpes_history, C::HerpesHistory),
        (
            answers.fitzpatrick_type.has_hyperpigmentation_risk(),
            C::HyperpigmentationRisk,
        ),
    ];
    let mut findings = ScreeningFindings::default();
    for (present, finding) in found {
        if present {
            match finding.severity() {
                Severity::Absolute => findings.absolute.insert(finding),
                Severity::Relative => findings.relative.insert(finding),
                Severity::Advisory => findings.advisories.insert(finding),
            };
        }
    }
    findings
}

/// Why a screening does not clear treatment.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotCleared {
    /// At least one absolute contraindication.
    #[error("absolute contraindication: {}", super::names::api_names(.0))]
    Absolute(Vec<Contraindication>),
    /// Relative contraindications without a provider's override reason.
    #[error(
        "relative contraindication needs a provider's override reason: {}",
        super::names::api_names(.0)
    )]
    RelativeWithoutOverride(Vec<Contraindication>),
}

impl NotCleared {
    /// The findings that stand in the way, as the API spells them, for
    /// `extensions.findings`.
    pub fn findings(&self) -> Vec<String> {
        let (Self::Absolute(findings) | Self::RelativeWithoutOverride(findings)) = self;
        findings.iter().map(super::names::api_name).collect()
    }
}

/// Whether the findings allow treatment: no absolute finding, and relative
/// ones only with a non-empty override reason.
///
/// # Errors
/// [`NotCleared`] saying why.
pub fn clears_treatment(
    findings: &ScreeningFindings,
    override_reason: Option<&str>,
) -> Result<(), NotCleared> {
    if !findings.absolute.is_empty() {
        return Err(NotCleared::Absolute(
            findings.absolute.iter().copied().collect(),
        ));
    }
    let overridden = override_reason.is_some_and(|reason| !reason.trim().is_empty());
    if !findings.relative.is_empty() && !overridden {
        return Err(NotCleared::RelativeWithoutOverride(
            findings.relative.iter().copied().collect(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clear() -> ScreeningAnswers {
        ScreeningAnswers::nothing_to_report(FitzpatrickType::Ii)
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_clean_screening_clears() {
        let findings = evaluate(&clear(), day(2026, 11, 24), 182);
        assert_eq!(findings, ScreeningFindings::default());
        assert_eq!(clears_treatment(&findings, None), Ok(()));
    }

    #[test]
    fn absolute_findings_block_even_with_an_override() {
        let answers = ScreeningAnswers {
            pregnant: true,
            ..clear()
        };
        let findings = evaluate(&answers, day(2026, 11, 24), 182);
        assert!(matches!(
            clears_treatment(&findings, Some("patient insists")),
            Err(NotCleared::Absolute(_))
        ));
    }

    #[test]
    fn relative_findings_need_a_reason() {
        let answers = ScreeningAnswers {
            keloid_history: true,
            ..clear()
        };
        let findings = evaluate(&answers, day(2026, 11, 24), 182);
        assert!(matches!(
            clears_treatment(&findings, None),
            Err(NotCleared::RelativeWithoutOverride(_))
        ));
        assert!(matches!(
            clears_treatment(&findings, Some("  ")),
            Err(NotCleared::RelativeWithoutOverride(_))
        ));
        assert_eq!(
            clears_treatment(&findings, Some("small test area first")),
            Ok(())
        );
    }

    #[test]
    fn isotretinoin_counts_only_within_the_washout() {
        let today = day(2026, 11, 24);
        let within = ScreeningAnswers {
            isotretinoin_last_dose: Some(today - Duration::days(181)),
            ..clear()
        };
        assert!(
            evaluate(&within, today, 182)
                .relative
                .contains(&Contraindication::RecentIsotretinoin)
        );
        let after = ScreeningAnswers {
            isotretinoin_last_dose: Some(today - Duration::days(182)),
            ..clear()
        };
        assert!(evaluate(&after, today, 182).relative.is_empty());
    }

    #[test]
    fn dark_skin_types_are_advisory_only() {
        let answers = ScreeningAnswers {
            fitzpatrick_type: FitzpatrickType::V,
            ..clear()
        };
        let findings = evaluate(&answers, day(2026, 11, 24), 182);
        assert!(
            findings
                .advisories
                .contains(&Contraindication::HyperpigmentationRisk)
        );
        assert_eq!(clears_treatment(&findings, None), Ok(()));
    }
}
