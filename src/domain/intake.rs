//! Consultation requests: statuses and the consent a request must carry
//! (R-CONTACT, R-HONEYPOT).

use std::collections::BTreeSet;

use async_graphql::Enum;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

use super::patient::ContactChannel;

/// Where a consultation request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RequestStatus {
    /// Just arrived; nobody has called back yet.
    #[sea_orm(string_value = "NEW")]
    New,
    /// The front desk reached (or tried to reach) the person.
    #[sea_orm(string_value = "CONTACTED")]
    Contacted,
    /// A consultation is booked.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// Turned into (or linked to) a patient; final.
    #[sea_orm(string_value = "CONVERTED")]
    Converted,
    /// The person declined or is not a candidate.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// Filled the hidden honeypot field: a bot. Hidden from default lists.
    #[sea_orm(string_value = "SPAM")]
    Spam,
}

impl RequestStatus {
    /// Whether staff may move a request from `self` to `next` with
    /// `updateConsultationRequest` (conversion has its own mutation).
    pub fn may_become(self, next: Self) -> bool {
        match (self, next) {
            (Self::Converted, _) | (_, Self::Converted) => false,
            (from, to) if from == to => true,
            (Self::Spam, Self::New) => true,
            (Self::Spam, _) => false,
            _ => true,
        }
    }
}

/// How the request reached the clinic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RequestSource {
    /// The clinic's public web form.
    #[sea_orm(string_value = "WEB_FORM")]
    WebForm,
    /// Taken by staff on a phone call.
    #[sea_orm(string_value = "PHONE")]
    Phone,
    /// A partner integration (booking widget, CRM).
    #[sea_orm(string_value = "PARTNER")]
    Partner,
}

/// Why the consent given with a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsentProblem {
    /// No channel consented to.
    #[error("consent to be contacted on at least one channel is required")]
    Missing,
    /// The preferred channel is not among those consented to.
    #[error("the preferred channel must be one of the consented channels")]
    PreferredNotConsented,
    /// Email consent without an email address.
    #[error("consent to EMAIL needs an email address")]
    EmailMissing,
    /// Phone or text consent without a phone number.
    #[error("consent to PHONE or TEXT needs a phone number")]
    PhoneMissing,
}

impl ConsentProblem {
    /// The input field to point the client at.
    pub fn field(self) -> &'static str {
        match self {
            Self::Missing | Self::PreferredNotConsented => "consentedChannels",
            Self::EmailMissing => "email",
            Self::PhoneMissing => "phone",
        }
    }
}

/// Checks the consent of a request (R-CONTACT): at least one of PHONE,
/// TEXT or EMAIL (IN_PERSON alone is no consent to be contacted), the
/// preferred channel among them, and a way to reach each consented channel.
///
/// # Errors
/// The first [`ConsentProblem`].
pub fn check_request_consent(
    preferred: ContactChannel,
    consented: &BTreeSet<ContactChannel>,
    has_email: bool,
    has_phone: bool,
) -> Result<(), ConsentProblem> {
    if !consented
        .iter()
        .any(|channel| ContactChannel::CONSENTED.contains(channel))
    {
        return Err(ConsentProblem::Missing);
    }
    if !consented.contains(&preferred) {
        return Err(ConsentProblem::PreferredNotConsented);
    }
    if consented.contains(&ContactChannel::Email) && !has_email {
        return Err(ConsentProblem::EmailMissing);
    }
    if (consented.contains(&ContactChannel::Phone) || consented.contains(&ContactChannel::Text))
        && !has_phone
    {
        return Err(ConsentProblem::PhoneMissing);
    }
    Ok(())
}

/// True when the hidden form field was filled: humans never see it.
pub fn is_honeypot_filled(honeypot: Option<&str>) -> bool {
    honeypot.is_some_and(|value| !value.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(channels: &[ContactChannel]) -> BTreeSet<ContactChannel> {
        channels.iter().copied().collect()
    }

    #[test]
    fn consent_is_required_and_must_cover_the_preferred_channel() {
        use ContactChannel::*;
        assert_eq!(
            check_request_consent(Email, &set(&[]), true, true),
            Err(ConsentProblem::Missing)
        );
        assert_eq!(
            check_request_consent(Phone, &set(&[Email]), true, true),
            Err(ConsentProblem::PreferredNotConsented)
        );
        assert_eq!(
            check_request_consent(Email, &set(&[Email]), false, true),
            Err(ConsentProblem::EmailMissing)
        );
        assert_eq!(
            check_request_consent(Text, &set(&[Text]), true, false),
            Err(ConsentProblem::PhoneMissing)
        );
        assert_eq!(
            check_request_consent(Text, &set(&[Text, Email]), true, true),
            Ok(())
        );
        assert_eq!(
            check_request_consent(InPerson, &set(&[InPerson]), false, false),
            Err(ConsentProblem::Missing),
            "IN_PERSON alone is no consent to be contacted"
        );
        assert_eq!(
            check_request_consent(InPerson, &set(&[InPerson, Email]), true, false),
            Ok(())
        );
    }

    #[test]
    fn honeypot_counts_only_when_filled() {
        assert!(!is_honeypot_filled(None));
        assert!(!is_honeypot_filled(Some("  ")));
        assert!(is_honeypot_filled(Some("http://spam.example")));
    }

    #[test]
    fn conversion_is_final_and_spam_only_returns_to_new() {
        use RequestStatus::*;
        assert!(!New.may_become(Converted));
        assert!(!Converted.may_become(New));
        assert!(New.may_become(Contacted));
        assert!(Contacted.may_become(Declined));
        assert!(Spam.may_become(New));
        assert!(!Spam.may_become(Scheduled));
    }
}
