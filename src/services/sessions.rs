//! Logging in and out, refreshing sessions, changing passwords.
//!
//! A login starts a refresh-token family with an absolute lifetime (policy,
//! 12 h by default). Each refresh rotates the token; presenting a token
//! that was already rotated revokes the whole family, since only a thief or
//! a replay can hold an old one.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    auth::{
        actor::RequestContext,
        password::{hash_password, verify_password},
        secrets::{new_refresh_token, sha256_hex},
        tokens::TokenKeys,
    },
    domain::{
        audit::{AuditAction, AuditOutcome, EntityType},
        staff::{Email, check_password_rules},
        throttle::{ACCOUNT_THROTTLE, IP_THROTTLE, ThrottlePolicy},
    },
    entities::{audit_events, refresh_tokens, users},
    error::{AppError, AppResult},
    services::{
        audit::{AuditEvent, AuditFilter, AuditedWrite, audit_events_matching},
        policy::current_policy,
        throttle,
        users::{announce_access_revoked, find_user, revoke_all_sessions},
    },
};

/// The message of every refused login, whatever the reason, so that it
/// does not reveal which accounts exist.
pub const LOGIN_REFUSED: &str = "invalid email or password";
/// The message of every refused refresh token.
const REFRESH_REFUSED: &str = "the session has ended; log in again";

/// A signed-in session: what `login` and `refreshSession` return.
pub struct Session {
    /// Short-lived JWT.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// Opaque refresh token, shown only now.
    pub refresh_token: String,
    /// The signed-in user.
    pub user: users::Model,
}

fn throttle_keys(email: &str, request: &RequestContext) -> Vec<(String, ThrottlePolicy)> {
    // Whatever was typed, the key fits its column (emails are at most 254).
    let email: String = email.chars().take(254).collect();
    let mut keys = vec![(format!("account:{email}"), ACCOUNT_THROTTLE)];
    if let Some(ip) = request.client_ip {
        keys.push((format!("ip:{ip}"), IP_THROTTLE));
    }
    keys
}

/// How long a successful sign-in from an address keeps that account
/// trusted there while the address is locked by others' failures.
const KNOWN_SOURCE_DAYS: i64 = 30;

/// Reserves the attempt against the account's and the address's limits
/// (`throttles`: the account first). When only the address is locked (many
/// failures from it, as a password-spraying attacker leaves, or the many
/// staff behind one clinic NAT or proxy), an account that signed in from
/// that address within [`KNOWN_SOURCE_DAYS`] is held to its own limit
/// alone: a colleague's or an attacker's failures on a shared address do
/// not lock out someone typing their right password, while accounts that
/// never signed in from it (what a sprayer tries) stay refused. Answers
/// the keys the attempt was counted against.
async fn reserve<'k>(
    db: &DatabaseConnection,
    request: &RequestContext,
    user: Option<&users::Model>,
    throttles: &'k [(String, ThrottlePolicy)],
) -> AppResult<Result<&'k [(String, ThrottlePolicy)], u64>> {
    let locked = match throttle::reserve_attempt(db, throttles).await? {
        Ok(()) => return Ok(Ok(throttles)),
        Err(seconds) => seconds,
    };
    let (Some(user), Some(ip), Some(account)) = (user, request.client_ip, throttles.get(..1))
    else {
        return Ok(Err(locked));
    };
    if throttles.len() < 2 || !signed_in_from(db, user.id, ip).await? {
        return Ok(Err(locked));
    }
    Ok(throttle::reserve_attempt(db, account)
        .await?
        .map(|()| account))
}

/// Whether the account signed in from this address within
/// [`KNOWN_SOURCE_DAYS`], as the audit trail records it.
async fn signed_in_from(
    db: &DatabaseConnection,
    user_id: Uuid,
    ip: std::net::IpAddr,
) -> AppResult<bool> {
    use sea_orm::{PaginatorTrait, QuerySelect};
    let logins = audit_events_matching(&AuditFilter {
        actor_id: Some(user_id),
        action: Some(AuditAction::Login),
        from: Some(Utc::now() - Duration::days(KNOWN_SOURCE_DAYS)),
        ..AuditFilter::default()
    });
    let found = logins
        .filter(audit_events::Column::ClientIp.eq(ip.to_string()))
        .limit(1)
        .count(db)
        .await?;
    Ok(found > 0)
}

/// Logs a staff member in.
///
/// # Errors
/// `UNAUTHENTICATED` with one message for unknown email, wrong password and
/// deactivated account; `RATE_LIMITED` while the account or client IP is
/// locked after repeated failures.
pub async fn login(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    request: &RequestContext,
    email: &str,
    password: String,
) -> AppResult<Session> {
    let normalized = Email::parse(email)
        .map(|email| email.as_str().to_owned())
        .unwrap_or_else(|| email.trim().to_lowercase());
    let throttles = throttle_keys(&normalized, request);
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(normalized.as_str()))
        .one(db)
        .await?;
    // The attempt is counted before the password is checked, so parallel
    // guesses cannot all be verified before the first failure is recorded.
    let reserved = match reserve(db, request, user.as_ref(), &throttles).await? {
        Ok(reserved) => reserved,
        Err(retry_after_seconds) => {
            let mut write = AuditedWrite::begin(db, request, "login").await?;
            write.audit(AuditEvent::new(AuditAction::LoginFailed).outcome(AuditOutcome::Denied));
            write.commit().await?;
            return Err(AppError::RateLimited {
                retry_after_seconds,
            });
        }
    };
    let password_matches = verify_password(
        password,
        user.as_ref().map(|user| user.password_hash.clone()),
    )
    .await?;
    let target = user.as_ref().map(|user| user.id);
    let user = user.filter(|user| password_matches && user.active);

    let mut write = AuditedWrite::begin(db, request, "login").await?;
    let Some(user) = user else {
        write.audit(
            AuditEvent::new(AuditAction::LoginFailed)
                .entity(EntityType::User, target)
                .outcome(AuditOutcome::Denied),
        );
        write.commit().await?;
        return Err(AppError::Unauthenticated(LOGIN_REFUSED));
    };
    throttle::release_attempt(&*write, reserved).await?;
    let lifetime = session_lifetime(&*write).await?;
    let session = start_session(&*write, keys, user, Uuid::now_v7(), Utc::now() + lifetime).await?;
    write.audit(
        AuditEvent::new(AuditAction::Login)
            .by_user(session.user.id, session.user.role)
            .entity(EntityType::User, Some(session.user.id)),
    );
    write.commit().await?;
    Ok(session)
}

async fn session_lifetime(db: &impl ConnectionTrait) -> AppResult<Duration> {
    let hours = current_policy(db).await?.session_lifetime_hours;
    Ok(Duration::hours(i64::from(hours)))
}

/// Issues an access token and a new refresh token in `family`.
async fn start_session(
    db: &impl ConnectionTrait,
    keys: &TokenKeys,
    user: users::Model,
    family_id: Uuid,
    expires_at: DateTime<Utc>,
) -> AppResult<Session> {
    let now = Utc::now();
    let refresh_token = new_refresh_token();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        family_id: Set(family_id),
        token_hash: Set(sha256_hex(&refresh_token)),
        token_version: Set(user.token_version),
        issued_at: Set(now),
        expires_at: Set(expires_at),
        rotated_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    let access = keys.issue(user.id, user.token_version, Some(family_id), now)?;
    Ok(Session {
        access_token: access.token,
        access_token_expires_at: Ord::min(access.expires_at, expires_at),
        refresh_token,
        user,
    })
}

async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid) -> AppResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Exchanges a refresh token for a new token pair.
///
/// # Errors
/// `UNAUTHENTICATED` when the token is unknown, expired, revoked, or was
/// already used (then its whole family is revoked).
pub async fn refresh(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    request: &RequestContext,
    refresh_token: &str,
) -> AppResult<Session> {
    let now = Utc::now();
    let mut write = AuditedWrite::begin(db, request, "refreshSession").await?;
    let Some(token) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(sha256_hex(refresh_token)))
        .one(&*write)
        .await?
    else {
        return Err(AppError::Unauthenticated(REFRESH_REFUSED));
    };
    let session_event = AuditEvent::new(AuditAction::SessionRefreshed)
        .entity(EntityType::Session, Some(token.family_id));
    // Claim the token: only one request can rotate it.
    let claimed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RotatedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(token.id))
        .filter(refresh_tokens::Column::RotatedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&*write)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        if token.rotated_at.is_some() || token.revoked_at.is_none() {
            revoke_family(&*write, token.family_id).await?;
            write.audit(
                AuditEvent::new(AuditAction::RefreshTokenReused)
                    .entity(EntityType::Session, Some(token.family_id))
                    .outcome(AuditOutcome::Denied),
            );
            write.commit().await?;
            // A stolen session's live connections end with it.
            announce_access_revoked(request, token.user_id, Some(token.family_id)).await;
        } else {
            write.audit(session_event.outcome(AuditOutcome::Denied));
            write.commit().await?;
        }
        return Err(AppError::Unauthenticated(REFRESH_REFUSED));
    }
    let user = find_user(&*write, token.user_id).await?;
    if token.expires_at <= now || !user.active || user.token_version != token.token_version {
        revoke_family(&*write, token.family_id).await?;
        write.audit(session_event.outcome(AuditOutcome::Denied));
        write.commit().await?;
        announce_access_revoked(request, token.user_id, Some(token.family_id)).await;
        return Err(AppError::Unauthenticated(REFRESH_REFUSED));
    }
    let session = start_session(&*write, keys, user, token.family_id, token.expires_at).await?;
    write.audit(session_event);
    write.commit().await?;
    Ok(session)
}

/// Ends the session the refresh token belongs to (its whole family).
///
/// # Errors
/// `NOT_FOUND` when the token is not one of the caller's sessions.
pub async fn logout(
    db: &DatabaseConnection,
    request: &RequestContext,
    refresh_token: &str,
) -> AppResult<()> {
    let mut write = AuditedWrite::begin(db, request, "logout").await?;
    let token = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(sha256_hex(refresh_token)))
        .one(&*write)
        .await?
        .filter(|token| Some(token.user_id) == request.actor.id())
        .ok_or(AppError::NotFound { entity: "session" })?;
    revoke_family(&*write, token.family_id).await?;
    write.audit(
        AuditEvent::new(AuditAction::Logout).entity(EntityType::Session, Some(token.family_id)),
    );
    write.commit().await?;
    announce_access_revoked(request, token.user_id, Some(token.family_id)).await;
    Ok(())
}

/// Changes the caller's password, revokes every other session and access
/// token, and returns a fresh session for this device.
///
/// # Errors
/// `BAD_USER_INPUT` on `currentPassword` when it is wrong, on `newPassword`
/// when it breaks the length rules or equals the current one.
pub async fn change_password(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    request: &RequestContext,
    current_password: String,
    new_password: String,
) -> AppResult<Session> {
    let user_id = request.actor.id().ok_or(AppError::Forbidden)?;
    check_password_rules(&new_password)
        .map_err(|error| AppError::bad_input("newPassword", error.to_string()))?;
    if new_password == current_password {
        return Err(AppError::bad_input(
            "newPassword",
            "choose a password different from the current one",
        ));
    }
    let user = find_user(db, user_id).await?;
    if !verify_password(current_password, Some(user.password_hash.clone())).await? {
        return Err(AppError::bad_input(
            "currentPassword",
            "the current password is wrong",
        ));
    }
    let new_hash = hash_password(new_password).await?;
    let mut write = AuditedWrite::begin(db, request, "changePassword").await?;
    let changed = users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(new_hash))
        .col_expr(
            users::Column::TokenVersion,
            Expr::col(users::Column::TokenVersion).add(1),
        )
        .col_expr(
            users::Column::Version,
            Expr::col(users::Column::Version).add(1),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::TokenVersion.eq(user.token_version))
        .exec(&*write)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(AppError::Conflict(
            "the account changed meanwhile; try again".to_owned(),
        ));
    }
    revoke_all_sessions(&*write, user_id).await?;
    let user = find_user(&*write, user_id).await?;
    let lifetime = session_lifetime(&*write).await?;
    let session = start_session(&*write, keys, user, Uuid::now_v7(), Utc::now() + lifetime).await?;
    write.audit(
        AuditEvent::new(AuditAction::PasswordChanged).entity(EntityType::User, Some(user_id)),
    );
    write.commit().await?;
    announce_access_revoked(request, user_id, None).await;
    Ok(session)
}
