//! The actor behind a request and the request's context.

use std::{collections::BTreeSet, net::IpAddr};

use uuid::Uuid;

use crate::domain::{audit::ActorKind, scope::ApiScope, staff::Role};

/// A signed-in staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    /// User id.
    pub id: Uuid,
    /// Role, as stored now (not as it was when the token was issued).
    pub role: Role,
}

/// A partner integration authenticated by API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    /// API client id.
    pub id: Uuid,
    /// The partner's name, e.g. "Glow booking widget".
    pub name: String,
    /// Scopes granted to the key.
    pub scopes: BTreeSet<ApiScope>,
}

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// No credentials.
    Anonymous,
    /// A staff member.
    Staff(StaffMember),
    /// A partner integration.
    Partner(Partner),
    /// The server itself (CLI, background jobs).
    System,
}

impl Actor {
    /// The audit kind of this actor.
    pub fn kind(&self) -> ActorKind {
        match self {
            Self::Anonymous => ActorKind::Anonymous,
            Self::Staff(_) => ActorKind::User,
            Self::Partner(_) => ActorKind::ApiClient,
            Self::System => ActorKind::System,
        }
    }

    /// The user or API client id.
    pub fn id(&self) -> Option<Uuid> {
        match self {
            Self::Staff(staff) => Some(staff.id),
            Self::Partner(partner) => Some(partner.id),
            Self::Anonymous | Self::System => None,
        }
    }

    /// The staff role, for staff.
    pub fn role(&self) -> Option<Role> {
        match self {
            Self::Staff(staff) => Some(staff.role),
            _ => None,
        }
    }
}

/// Why presented credentials were refused; the request goes on as
/// anonymous, and anything that needs a signed-in actor says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialProblem {
    /// The access token is malformed, forged, expired or revoked.
    InvalidAccessToken,
    /// The API key is unknown or revoked.
    InvalidApiKey,
    /// The `Authorization` header is not `Bearer <token>`.
    MalformedHeader,
}

impl CredentialProblem {
    /// A message for the client.
    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidAccessToken => {
                "the access token is invalid or expired; refresh the session or log in again"
            }
            Self::InvalidApiKey => "the API key is invalid or revoked",
            Self::MalformedHeader => "the Authorization header must be `Bearer <token>`",
        }
    }
}

/// Everything known about the request that services need: the actor and
/// what the audit trail records about the call.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// Who is calling.
    pub actor: Actor,
    /// Set when credentials were presented but refused.
    pub credential_problem: Option<CredentialProblem>,
    /// The request's id.
    pub request_id: Option<String>,
    /// The client's address.
    pub client_ip: Option<IpAddr>,
    /// Where the changes this request commits are announced live
    /// (subscriptions); none for the CLI and background work.
    pub events: Option<crate::events::EventBus>,
    /// The read-audit rows this request queued; its answer waits for them.
    pub audit_receipts: crate::services::audit::AuditReceipts,
}

impl RequestContext {
    /// A context for work the server does on its own (CLI, jobs).
    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            credential_problem: None,
            request_id: None,
            client_ip: None,
            events: None,
            audit_receipts: crate::services::audit::AuditReceipts::default(),
        }
    }
}
