//! Patients: contact channels and consent (R-CONTACT), skin type, concerns,
//! the medical conditions of the contraindication list, and the checks on
//! demographics.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::{Enum, EnumType};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

/// A way to reach a patient.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, DeriveActiveEnum, EnumIter,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ContactChannel {
    /// A phone call.
    #[sea_orm(string_value = "PHONE")]
    Phone,
    /// A text message.
    #[sea_orm(string_value = "TEXT")]
    Text,
    /// An email to the address on record; needs the patient's consent
    /// (R-CONTACT).
    #[sea_orm(string_value = "EMAIL")]
    Email,
    /// At the clinic, in person; always allowed, needs no consent.
    #[sea_orm(string_value = "IN_PERSON")]
    InPerson,
}

impl ContactChannel {
    /// The channels that need the patient's consent (R-CONTACT).
    pub const CONSENTED: [Self; 3] = [Self::Phone, Self::Text, Self::Email];
}

/// Fitzpatrick skin type. Micro-needling suits all six; IV-VI carry a risk
/// of post-inflammatory hyperpigmentation (advisory, not a contraindication).
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(4))")]
pub enum FitzpatrickType {
    /// Always burns, never tans.
    #[sea_orm(string_value = "I")]
    I,
    /// Usually burns, tans minimally.
    #[sea_orm(string_value = "II")]
    Ii,
    /// Sometimes burns, tans uniformly.
    #[sea_orm(string_value = "III")]
    Iii,
    /// Burns minimally, tans well (hyperpigmentation risk).
    #[sea_orm(string_value = "IV")]
    Iv,
    /// Rarely burns, tans deeply (hyperpigmentation risk).
    #[sea_orm(string_value = "V")]
    V,
    /// Never burns (hyperpigmentation risk).
    #[sea_orm(string_value = "VI")]
    Vi,
}

impl FitzpatrickType {
    /// Types IV-VI are flagged for post-inflammatory hyperpigmentation.
    pub fn has_hyperpigmentation_risk(self) -> bool {
        matches!(self, Self::Iv | Self::V | Self::Vi)
    }
}

/// What the patient wants treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum)]
pub enum SkinConcern {
    /// Scars left by past acne, a main indication for micro-needling.
    AcneScars,
    /// Depressed (sunken) scars from other causes, e.g. injury, surgery or
    /// chickenpox.
    AtrophicScars,
    /// Fine, shallow lines, e.g. around the eyes or the mouth.
    FineLines,
    /// Deeper lines and creases of ageing skin.
    Wrinkles,
    /// Skin texture.
    Texture,
    /// Visibly enlarged pores, often on the nose and cheeks.
    EnlargedPores,
    /// Dark patches or uneven skin tone, e.g. sun spots.
    Hyperpigmentation,
    /// Stretch marks (striae), usually treated as the BODY area.
    StretchMarks,
}

/// A condition of the contraindication list (DOMAIN.md) recorded in the
/// medical history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum)]
pub enum MedicalCondition {
    /// Active skin infection or inflammatory acne (absolute).
    ActiveSkinInfection,
    /// Active herpes simplex outbreak (absolute).
    ActiveHerpesOutbreak,
    /// Pregnancy (absolute).
    Pregnancy,
    /// Open wounds (absolute).
    OpenWounds,
    /// History of keloid or hypertrophic scarring (relative).
    KeloidHistory,
    /// A bleeding disorder (relative).
    BleedingDisorder,
    /// Uncontrolled diabetes (relative).
    UncontrolledDiabetes,
    /// Immunosuppression, chemotherapy or radiotherapy (relative).
    Immunosuppression,
    /// Eczema, psoriasis or rosacea (relative).
    EczemaPsoriasisRosacea,
    /// Allergy to topical anaesthetics or to metal (relative).
    AnaestheticOrMetalAllergy,
    /// History of herpes simplex: antiviral prophylaxis (relative).
    HerpesHistory,
}

/// Stores a set of enum values as a comma-separated column of their
/// GraphQL names.
pub fn join_codes<T: EnumType + Ord>(values: &BTreeSet<T>) -> String {
    values
        .iter()
        .filter_map(|value| T::items().iter().find(|item| item.value == *value))
        .map(|item| item.name)
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads a comma-separated column back, skipping unknown codes.
pub fn split_codes<T: EnumType + Ord>(text: &str) -> BTreeSet<T> {
    text.split(',')
        .filter(|code| !code.is_empty())
        .filter_map(|code| {
            T::items()
                .iter()
                .find(|item| item.name == code)
                .map(|item| item.value)
        })
        .collect()
}

/// One recorded grant or revocation of consent to be contacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Channel.
    pub channel: ContactChannel,
    /// Granted (true) or revoked (false).
    pub granted: bool,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// The channels a patient consents to now: the latest record per channel
/// wins; IN_PERSON is always allowed (R-CONTACT).
pub fn consented_channels(history: &[ConsentRecord]) -> BTreeSet<ContactChannel> {
    let mut latest: BTreeMap<ContactChannel, &ConsentRecord> = BTreeMap::new();
    for record in history {
        match latest.get(&record.channel) {
            Some(seen) if seen.recorded_at > record.recorded_at => {}
            _ => {
                latest.insert(record.channel, record);
            }
        }
    }
    let mut channels: BTreeSet<_> = latest
        .into_values()
        .filter(|record| record.granted)
        .map(|record| record.channel)
        .collect();
    channels.insert(ContactChannel::InPerson);
    channels
}

/// Whole years of age on `day`.
pub fn age_on(date_of_birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - date_of_birth.year();
    if (day.month(), day.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// Why a date of birth was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    /// Not in the past.
    #[error("the date of birth must be in the past")]
    NotInThePast,
    /// Younger than the clinic treats.
    #[error("the patient must be at least {0} years old")]
    TooYoung(u32),
    /// Implausibly old (a typo).
    #[error("the date of birth is implausible")]
    Implausible,
}

/// Checks a date of birth against `today` and the clinic's minimum age.
///
/// # Errors
/// A [`BirthDateError`].
pub fn check_date_of_birth(
    date_of_birth: NaiveDate,
    today: NaiveDate,
    minimum_age: u32,
) -> Result<(), BirthDateError> {
    if date_of_birth >= today {
        return Err(BirthDateError::NotInThePast);
    }
    let age = age_on(date_of_birth, today);
    if age > 130 {
        return Err(BirthDateError::Implausible);
    }
    if u32::try_from(age).unwrap_or(0) < minimum_age {
        return Err(BirthDateError::TooYoung(minimum_age));
    }
    Ok(())
}

/// A phone number in E.164 (`+15551234567`); national numbers are read in
/// `default_region` (e.g. "US").
pub fn parse_phone(text: &str, default_region: &str) -> Option<String> {
    let region = default_region.parse::<phonenumber::country::Id>().ok();
    let number = phonenumber::parse(region, text.trim()).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Lower-cased, accent-free text for searching (`Zoë` → `zoe`), the same on
/// every database.
pub fn fold_for_search(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + i64::from(day) * 86_400, 0).unwrap()
    }

    #[test]
    fn the_latest_record_per_channel_wins_and_in_person_is_always_allowed() {
        let history = vec![
            ConsentRecord {
                channel: ContactChannel::Text,
                granted: true,
                recorded_at: at(1),
            },
            ConsentRecord {
                channel: ContactChannel::Email,
                granted: true,
                recorded_at: at(1),
            },
            ConsentRecord {
                channel: ContactChannel::Text,
                granted: false,
                recorded_at: at(3),
            },
            ConsentRecord {
                channel: ContactChannel::Email,
                granted: false,
                recorded_at: at(0),
            },
        ];
        let channels = consented_channels(&history);
        assert_eq!(
            channels,
            BTreeSet::from([ContactChannel::Email, ContactChannel::InPerson])
        );
        assert_eq!(
            consented_channels(&[]),
            BTreeSet::from([ContactChannel::InPerson])
        );
    }

    #[test]
    fn ages_count_whole_years_including_leap_day_birthdays() {
        let leap = NaiveDate::from_ymd_opt(2008, 2, 29).unwrap();
        assert_eq!(
            age_on(leap, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()),
            17
        );
        assert_eq!(
            age_on(leap, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
            18
        );
    }

    #[test]
    fn dates_of_birth_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(
            check_date_of_birth(today, today, 18),
            Err(BirthDateError::NotInThePast)
        );
        let seventeen = NaiveDate::from_ymd_opt(2009, 11, 25).unwrap();
        assert_eq!(
            check_date_of_birth(seventeen, today, 18),
            Err(BirthDateError::TooYoung(18))
        );
        let eighteen = NaiveDate::from_ymd_opt(2008, 11, 24).unwrap();
        assert_eq!(check_date_of_birth(eighteen, today, 18), Ok(()));
        let ancient = NaiveDate::from_ymd_opt(1850, 1, 1).unwrap();
        assert_eq!(
            check_date_of_birth(ancient, today, 18),
            Err(BirthDateError::Implausible)
        );
    }

    #[test]
    fn phones_are_normalized_to_e164() {
        assert_eq!(
            parse_phone("(212) 555-0142", "US").as_deref(),
            Some("+12125550142")
        );
        assert_eq!(parse_phone("123", "US"), None);
        assert_eq!(
            parse_phone("(212) 736-5000", "US").as_deref(),
            Some("+12127365000")
        );
        assert_eq!(
            parse_phone("+44 20 7946 0958", "US").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(parse_phone("not a phone", "US"), None);
    }

    #[test]
    fn search_folding_ignores_case_and_accents() {
        assert_eq!(fold_for_search("Zoë Ángeles-Núñez"), "zoe angeles-nunez");
    }

    #[test]
    fn codes_round_trip() {
        let concerns = BTreeSet::from([SkinConcern::AcneScars, SkinConcern::Texture]);
        let text = join_codes(&concerns);
        assert_eq!(text, "ACNE_SCARS,TEXTURE");
        assert_eq!(split_codes::<SkinConcern>(&text), concerns);
        assert!(split_codes::<SkinConcern>("").is_empty());
    }

    #[test]
    fn only_dark_skin_types_carry_pih_risk() {
        assert!(!FitzpatrickType::Iii.has_hyperpigmentation_risk());
        assert!(FitzpatrickType::Iv.has_hyperpigmentation_risk());
    }
}
