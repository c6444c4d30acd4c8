//! Turning the `Authorization` header into the request's actor.

use std::net::IpAddr;

use http::{HeaderMap, header};

use crate::{
    auth::{
        actor::{Actor, CredentialProblem, RequestContext, StaffMember},
        secrets::API_KEY_PREFIX,
    },
    error::AppResult,
    services::{api_clients::authenticate_key, users},
    state::AppState,
};

/// Resolves the caller. Missing credentials make an anonymous actor;
/// refused ones too, with the problem noted so that operations needing a
/// signed-in actor can say why (public operations such as `login` still work).
///
/// # Errors
/// Database failures only.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    request_id: Option<String>,
    client_ip: Option<IpAddr>,
) -> AppResult<RequestContext> {
    let (actor, credential_problem) = match bearer_token(headers) {
        None => (Actor::Anonymous, None),
        Some(Err(problem)) => (Actor::Anonymous, Some(problem)),
        Some(Ok(token)) if token.starts_with(API_KEY_PREFIX) => {
            match authenticate_key(&state.db, token).await? {
                Some(partner) => (Actor::Partner(partner), None),
                None => (Actor::Anonymous, Some(CredentialProblem::InvalidApiKey)),
            }
        }
        Some(Ok(token)) => match staff_member(state, token).await? {
            Some(staff) => (Actor::Staff(staff), None),
            None => (
                Actor::Anonymous,
                Some(CredentialProblem::InvalidAccessToken),
            ),
        },
    };
    Ok(RequestContext {
        actor,
        credential_problem,
        request_id,
        client_ip,
        events: Some(state.events.clone()),
        audit_receipts: crate::services::audit::AuditReceipts::default(),
    })
}

fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, CredentialProblem>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty());
    Some(token.ok_or(CredentialProblem::MalformedHeader))
}

/// The staff member of a valid access token whose account is active, whose
/// token version is current (deactivation and password changes bump it,
/// revoking every outstanding token at once) and whose session, if the
/// token names one, is not revoked (logout ends its tokens at once). The
/// session is checked in the statement that loads the account.
async fn staff_member(state: &AppState, token: &str) -> AppResult<Option<StaffMember>> {
    let Ok(claims) = state.keys.verify(token) else {
        return Ok(None);
    };
    let user = users::find_active_in_session(&state.db, claims.sub, claims.sid).await?;
    Ok(user
        .filter(|user| user.active && user.token_version == claims.ver)
        .map(|user| StaffMember {
            id: user.id,
            role: user.role,
        }))
}
