//! The vocabulary of the audit trail (R-AUDIT). Rows name who did what to
//! which record; they never hold personal or clinical values.

use async_graphql::Enum;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

/// Who acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ActorKind {
    /// A staff member with an access token.
    #[sea_orm(string_value = "USER")]
    User,
    /// A partner integration with an API key.
    #[sea_orm(string_value = "API_CLIENT")]
    ApiClient,
    /// Nobody signed in (public operations, failed logins).
    #[sea_orm(string_value = "ANONYMOUS")]
    Anonymous,
    /// The server itself (CLI, background jobs).
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AuditAction {
    /// A record was read.
    #[sea_orm(string_value = "READ")]
    Read,
    /// A record was created.
    #[sea_orm(string_value = "CREATE")]
    Create,
    /// A record was changed.
    #[sea_orm(string_value = "UPDATE")]
    Update,
    /// Rows written before ARCHIVE, DEACTIVATE and REVOKE existed (until
    /// 2026-12) record those as DELETE; nothing is ever hard-deleted, and
    /// nothing new is recorded as DELETE.
    #[sea_orm(string_value = "DELETE")]
    Delete,
    /// A patient was archived: kept, and hidden from lists (R-RECORDS).
    #[sea_orm(string_value = "ARCHIVE")]
    Archive,
    /// A staff account was deactivated: it can no longer sign in.
    #[sea_orm(string_value = "DEACTIVATE")]
    Deactivate,
    /// A partner's API key was revoked.
    #[sea_orm(string_value = "REVOKE")]
    Revoke,
    /// A successful login.
    #[sea_orm(string_value = "LOGIN")]
    Login,
    /// A refused login (wrong password, unknown email, locked, inactive).
    #[sea_orm(string_value = "LOGIN_FAILED")]
    LoginFailed,
    /// A session ended by the user.
    #[sea_orm(string_value = "LOGOUT")]
    Logout,
    /// A refresh token was exchanged for a new session token pair.
    #[sea_orm(string_value = "SESSION_REFRESHED")]
    SessionRefreshed,
    /// An already rotated refresh token was presented: its whole family
    /// was revoked (possible token theft).
    #[sea_orm(string_value = "REFRESH_TOKEN_REUSED")]
    RefreshTokenReused,
    /// A password was changed.
    #[sea_orm(string_value = "PASSWORD_CHANGED")]
    PasswordChanged,
    /// An operation or field was refused for lack of rights.
    #[sea_orm(string_value = "ACCESS_DENIED")]
    AccessDenied,
    /// Data left the system in bulk (exports, recall lists).
    #[sea_orm(string_value = "EXPORT")]
    Export,
    /// A provider overrode a safety guideline with a reason (relative
    /// contraindication, depth outside the area's range).
    #[sea_orm(string_value = "OVERRIDE")]
    Override,
    /// A signed record was corrected by an amendment.
    #[sea_orm(string_value = "AMEND")]
    Amend,
    /// A procedure was signed and locked.
    #[sea_orm(string_value = "SIGN")]
    Sign,
}

/// How the attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AuditOutcome {
    /// It was done.
    #[sea_orm(string_value = "SUCCESS")]
    Success,
    /// It was refused (rights, throttling, credentials).
    #[sea_orm(string_value = "DENIED")]
    Denied,
}

/// The kinds of record audit rows point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityType {
    /// A staff account.
    User,
    /// A partner integration.
    ApiClient,
    /// A login session (refresh-token family).
    Session,
    /// The clinic policy.
    ClinicPolicy,
    /// The audit log itself.
    AuditLog,
    /// A patient's demographics and contact data.
    Patient,
    /// A patient's medical history (clinical).
    MedicalHistory,
    /// A patient's consent to be contacted.
    ContactConsent,
    /// A consultation request (a prospective patient's contact data).
    ConsultationRequest,
    /// A consultation.
    Consultation,
    /// A contraindication screening (clinical).
    Screening,
    /// A signed informed consent.
    InformedConsent,
    /// A treatment plan.
    TreatmentPlan,
    /// A micro-needling device.
    Device,
    /// A needle cartridge.
    Cartridge,
    /// A procedure.
    Procedure,
    /// One device and cartridge over one area of a procedure.
    DeviceSession,
    /// A correction of a signed procedure.
    ProcedureAmendment,
    /// A follow-up after a procedure.
    FollowUp,
    /// A partner webhook endpoint or one of its deliveries.
    WebhookEndpoint,
}

impl EntityType {
    /// The name stored in `audit_events.entity_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::ApiClient => "ApiClient",
            Self::Session => "Session",
            Self::ClinicPolicy => "ClinicPolicy",
            Self::AuditLog => "AuditLog",
            Self::Patient => "Patient",
            Self::MedicalHistory => "MedicalHistory",
            Self::ContactConsent => "ContactConsent",
            Self::ConsultationRequest => "ConsultationRequest",
            Self::Consultation => "Consultation",
            Self::Screening => "Screening",
            Self::InformedConsent => "InformedConsent",
            Self::TreatmentPlan => "TreatmentPlan",
            Self::Device => "Device",
            Self::Cartridge => "Cartridge",
            Self::Procedure => "Procedure",
            Self::DeviceSession => "DeviceSession",
            Self::ProcedureAmendment => "ProcedureAmendment",
            Self::FollowUp => "FollowUp",
            Self::WebhookEndpoint => "WebhookEndpoint",
        }
    }
}
