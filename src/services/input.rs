//! Cleaning free-text input the same way everywhere.

use crate::{
    auth::actor::{Actor, RequestContext},
    error::{AppError, AppResult},
};

/// Trims `value` and checks it holds at most `max` printable characters
/// (newlines and tabs allowed); an empty value becomes `None`.
///
/// # Errors
/// `BAD_USER_INPUT` naming `field`.
pub fn optional_text(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim().to_owned();
    let printable = value
        .chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t');
    if value.chars().count() > max || !printable {
        return Err(AppError::bad_input(
            field,
            format!("must have at most {max} printable characters"),
        ));
    }
    Ok((!value.is_empty()).then_some(value))
}

/// Like [`optional_text`], but the value is required.
///
/// # Errors
/// `BAD_USER_INPUT` naming `field` when empty or invalid.
pub fn required_text(field: &str, value: String, max: usize) -> AppResult<String> {
    optional_text(field, Some(value), max)?.ok_or_else(|| AppError::bad_input(field, "is required"))
}

/// Who sent an idempotency key: the partner, the staff member, or for the
/// public form the client address.
pub fn idempotency_actor(request: &RequestContext) -> String {
    match (&request.actor, request.client_ip) {
        (Actor::Partner(partner), _) => format!("client:{}", partner.id),
        (Actor::Staff(staff), _) => format!("user:{}", staff.id),
        (_, Some(ip)) => format!("ip:{ip}"),
        _ => "anonymous".to_owned(),
    }
}
