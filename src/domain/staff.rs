//! Staff roles, professional licenses and the account rules that go with
//! them (R-LICENSE, DOMAIN.md "Who does what").

use async_graphql::Enum;
use chrono::NaiveDate;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

/// What a staff member may do (DOMAIN.md "Who does what").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    /// Manages staff accounts, API clients, devices and clinic policy; reads
    /// the audit log; reads everything.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// A licensed clinician: full clinical read and write; performs and
    /// signs procedures.
    #[sea_orm(string_value = "PROVIDER")]
    Provider,
    /// Demographics, contact data, consultation requests, scheduling and
    /// follow-up calls; never medical history, screening answers, clinical
    /// notes or device settings.
    #[sea_orm(string_value = "FRONT_DESK")]
    FrontDesk,
}

impl Role {
    /// The role's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Provider => "PROVIDER",
            Self::FrontDesk => "FRONT_DESK",
        }
    }

    /// Whether the role may read clinical data (medical history, screening
    /// answers, clinical notes, device settings).
    pub fn sees_clinical_data(self) -> bool {
        matches!(self, Self::Admin | Self::Provider)
    }

    /// Whether the role may write clinical data: providers only (admins
    /// read everything but chart nothing).
    pub fn writes_clinical_data(self) -> bool {
        self == Self::Provider
    }
}

/// The kind of professional license a provider holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum LicenseKind {
    /// Doctor of Medicine.
    #[sea_orm(string_value = "MD")]
    Md,
    /// Doctor of Osteopathic Medicine.
    #[sea_orm(string_value = "DO")]
    Do,
    /// Nurse Practitioner.
    #[sea_orm(string_value = "NP")]
    Np,
    /// Physician Assistant.
    #[sea_orm(string_value = "PA")]
    Pa,
    /// Registered Nurse.
    #[sea_orm(string_value = "RN")]
    Rn,
    /// Licensed esthetician (LE), a skin-care professional licensed by the
    /// issuing state.
    #[sea_orm(string_value = "LICENSED_ESTHETICIAN")]
    LicensedEsthetician,
}

/// A professional license (R-LICENSE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
    /// License number as issued.
    pub number: String,
    /// Kind of license.
    pub kind: LicenseKind,
    /// State or authority that issued it.
    pub issuing_state: String,
    /// Last day the license is valid.
    pub expires_on: NaiveDate,
}

impl License {
    /// True when the license is valid on `day` (the expiry day included).
    pub fn is_valid_on(&self, day: NaiveDate) -> bool {
        day <= self.expires_on
    }
}

/// Shortest password accepted (DESIGN.md "Security").
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted; bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Why a proposed password was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    /// Fewer than 12 characters.
    #[error("the password must have at least 12 characters")]
    TooShort,
    /// More than 128 characters.
    #[error("the password must have at most 128 characters")]
    TooLong,
}

/// Checks a new password against the length rules (characters, not bytes).
///
/// # Errors
/// [`PasswordRuleError`] saying which bound was crossed.
pub fn check_password_rules(password: &str) -> Result<(), PasswordRuleError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        Err(PasswordRuleError::TooShort)
    } else if length > MAX_PASSWORD_CHARS {
        Err(PasswordRuleError::TooLong)
    } else {
        Ok(())
    }
}

/// An email address, trimmed and lower-cased so that uniqueness and login
/// are case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses and normalizes an address.
    ///
    /// # Errors
    /// `None` when the text is not a plausible address.
    pub fn parse(text: &str) -> Option<Self> {
        let normalized = text.trim().to_lowercase();
        let valid = normalized.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                &normalized,
                email_address::Options::default().without_display_text(),
            )
            .is_ok()
            && normalized
                .rsplit_once('@')
                .is_some_and(|(_, domain)| domain.contains('.'));
        valid.then_some(Self(normalized))
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_counted_in_characters() {
        assert_eq!(
            check_password_rules("short"),
            Err(PasswordRuleError::TooShort)
        );
        assert_eq!(check_password_rules(&"é".repeat(12)), Ok(()));
        assert_eq!(
            check_password_rules(&"a".repeat(11)),
            Err(PasswordRuleError::TooShort)
        );
        assert_eq!(check_password_rules(&"a".repeat(128)), Ok(()));
        assert_eq!(
            check_password_rules(&"a".repeat(129)),
            Err(PasswordRuleError::TooLong)
        );
    }

    #[test]
    fn emails_are_normalized_and_validated() {
        assert_eq!(
            Email::parse("  Dr.Ana@Clinic.Example ").map(|e| e.as_str().to_owned()),
            Some("dr.ana@clinic.example".to_owned())
        );
        assert!(Email::parse("not-an-email").is_none());
        assert!(Email::parse("a@localhost").is_none());
        assert!(Email::parse("Ana <ana@clinic.example>").is_none());
        assert!(Email::parse(&format!("{}@clinic.example", "a".repeat(250))).is_none());
    }

    #[test]
    fn a_license_is_valid_through_its_expiry_day() {
        let license = License {
            number: "RN-1".into(),
            kind: LicenseKind::Rn,
            issuing_state: "NY".into(),
            expires_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        };
        assert!(license.is_valid_on(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
        assert!(!license.is_valid_on(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
    }

    #[test]
    fn only_admins_and_providers_see_clinical_data() {
        assert!(Role::Admin.sees_clinical_data());
        assert!(Role::Provider.sees_clinical_data());
        assert!(!Role::FrontDesk.sees_clinical_data());
        assert!(Role::Provider.writes_clinical_data());
        assert!(!Role::Admin.writes_clinical_data());
    }
}
