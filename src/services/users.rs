//! Staff accounts: creation, changes, deactivation and listing.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    auth::{actor::RequestContext, password::hash_password},
    domain::{
        audit::{AuditAction, EntityType},
        staff::{Email, License, Role, check_password_rules},
    },
    entities::{refresh_tokens, users},
    error::{AppError, AppResult},
    graphql::pagination::{Page, PageDirection, PageRequest},
    services::audit::{AuditEvent, AuditedWrite},
    services::listing::total_count,
};

/// Longest display name accepted.
const MAX_DISPLAY_NAME_CHARS: usize = 200;

/// A staff account to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Login email.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Initial password (12-128 characters).
    pub password: String,
    /// Professional license; required for providers.
    pub license: Option<License>,
}

/// Changes to a staff account; `None` leaves a value as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    /// New login email.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New license.
    pub license: Option<License>,
    /// Whether the provider may amend procedures others performed.
    pub supervises_amendments: Option<bool>,
}

/// The license stored on an account, if complete.
pub fn license_of(user: &users::Model) -> Option<License> {
    Some(License {
        number: user.license_number.clone()?,
        kind: user.license_kind?,
        issuing_state: user.license_issuing_state.clone()?,
        expires_on: user.license_expires_on?,
    })
}

fn parse_email(email: &str) -> AppResult<Email> {
    Email::parse(email).ok_or_else(|| AppError::bad_input("email", "not a valid email address"))
}

fn clean_display_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DISPLAY_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::bad_input(
            "displayName",
            "the display name must have 1 to 200 printable characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_license(license: &License) -> AppResult<()> {
    for (field, value) in [
        ("license.number", &license.number),
        ("license.issuingState", &license.issuing_state),
    ] {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 64 || value.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                field,
                "must have 1 to 64 printable characters",
            ));
        }
    }
    Ok(())
}

fn check_password(password: &str, field: &str) -> AppResult<()> {
    check_password_rules(password).map_err(|error| AppError::bad_input(field, error.to_string()))
}

async fn ensure_email_free(
    db: &impl ConnectionTrait,
    email: &Email,
    except: Option<Uuid>,
) -> AppResult<()> {
    let mut query = users::Entity::find().filter(users::Column::Email.eq(email.as_str()));
    if let Some(id) = except {
        query = query.filter(users::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(AppError::Conflict(
            "a user with this email already exists".to_owned(),
        ));
    }
    Ok(())
}

/// Creates a staff account.
///
/// # Errors
/// `BAD_USER_INPUT` naming the field; `CONFLICT` when the email is taken.
pub async fn create_user(
    db: &DatabaseConnection,
    request: &RequestContext,
    operation: &'static str,
    new: NewUser,
) -> AppResult<users::Model> {
    let email = parse_email(&new.email)?;
    let display_name = clean_display_name(&new.display_name)?;
    check_password(&new.password, "password")?;
    match &new.license {
        Some(license) => check_license(license)?,
        None if new.role == Role::Provider => {
            return Err(AppError::bad_input(
                "license",
                "a provider needs a license (number, kind, issuing state, expiry)",
            ));
        }
        None => {}
    }
    let password_hash = hash_password(new.password).await?;
    let mut write = AuditedWrite::begin(db, request, operation).await?;
    ensure_email_free(&*write, &email, None).await?;
    let now = Utc::now();
    let license = new.license;
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_owned()),
        display_name: Set(display_name),
        role: Set(new.role),
        active: Set(true),
        license_number: Set(license.as_ref().map(|l| l.number.trim().to_owned())),
        license_kind: Set(license.as_ref().map(|l| l.kind)),
        license_issuing_state: Set(license.as_ref().map(|l| l.issuing_state.trim().to_owned())),
        license_expires_on: Set(license.as_ref().map(|l| l.expires_on)),
        password_hash: Set(password_hash),
        token_version: Set(0),
        supervises_amendments: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&*write)
    .await?;
    write.audit(AuditEvent::new(AuditAction::Create).entity(EntityType::User, Some(user.id)));
    write.commit().await?;
    Ok(user)
}

/// Applies changes to an account if it is still at `expected_version`.
///
/// # Errors
/// `NOT_FOUND`, `CONFLICT` (stale version or email taken), `BAD_USER_INPUT`.
pub async fn update_user(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    changes: UserChanges,
) -> AppResult<users::Model> {
    let email = changes.email.as_deref().map(parse_email).transpose()?;
    let display_name = changes
        .display_name
        .as_deref()
        .map(clean_display_name)
        .transpose()?;
    if let Some(license) = &changes.license {
        check_license(license)?;
    }
    let mut write = AuditedWrite::begin(db, request, "updateUser").await?;
    let current = find_user(&*write, id).await?;
    if let Some(email) = &email {
        ensure_email_free(&*write, email, Some(id)).await?;
    }
    let role = changes.role.unwrap_or(current.role);
    let license = changes.license.or_else(|| license_of(&current));
    if role == Role::Provider && license.is_none() {
        return Err(AppError::bad_input("license", "a provider needs a license"));
    }
    // Only a provider amends; one who stops being a provider stops
    // supervising too.
    let supervises = changes
        .supervises_amendments
        .unwrap_or(current.supervises_amendments)
        && role == Role::Provider;
    if changes.supervises_amendments == Some(true) && !supervises {
        return Err(AppError::bad_input(
            "supervisesAmendments",
            "only a provider can supervise amendments",
        ));
    }
    let mut update = users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::value(role))
        .col_expr(users::Column::SupervisesAmendments, Expr::value(supervises))
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            users::Column::Version,
            Expr::col(users::Column::Version).add(1),
        )
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::Version.eq(expected_version));
    if let Some(email) = email {
        update = update.col_expr(users::Column::Email, Expr::value(email.as_str().to_owned()));
    }
    if let Some(display_name) = display_name {
        update = update.col_expr(users::Column::DisplayName, Expr::value(display_name));
    }
    if let Some(license) = license {
        update = update
            .col_expr(
                users::Column::LicenseNumber,
                Expr::value(license.number.trim().to_owned()),
            )
            .col_expr(users::Column::LicenseKind, Expr::value(license.kind))
            .col_expr(
                users::Column::LicenseIssuingState,
                Expr::value(license.issuing_state.trim().to_owned()),
            )
            .col_expr(
                users::Column::LicenseExpiresOn,
                Expr::value(license.expires_on),
            );
    }
    if update.exec(&*write).await?.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(AuditEvent::new(AuditAction::Update).entity(EntityType::User, Some(id)));
    let user = find_user(&*write, id).await?;
    write.commit().await?;
    // A live connection holds the role it was opened with.
    if user.role != current.role {
        announce_access_revoked(request, id, None).await;
    }
    Ok(user)
}

/// Deactivates an account: it can no longer log in, and every session and
/// access token it holds stops working at once.
///
/// # Errors
/// `NOT_FOUND`; `INVALID_STATE` when an admin deactivates themselves.
pub async fn deactivate_user(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
) -> AppResult<users::Model> {
    if request.actor.id() == Some(id) {
        return Err(AppError::InvalidState(
            "you cannot deactivate your own account; ask another admin".to_owned(),
        ));
    }
    let mut write = AuditedWrite::begin(db, request, "deactivateUser").await?;
    let user = find_user(&*write, id).await?;
    if user.active {
        let now = Utc::now();
        users::Entity::update_many()
            .col_expr(users::Column::Active, Expr::value(false))
            .col_expr(
                users::Column::TokenVersion,
                Expr::col(users::Column::TokenVersion).add(1),
            )
            .col_expr(
                users::Column::Version,
                Expr::col(users::Column::Version).add(1),
            )
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(id))
            .exec(&*write)
            .await?;
        revoke_all_sessions(&*write, id).await?;
    }
    write.audit(AuditEvent::new(AuditAction::Deactivate).entity(EntityType::User, Some(id)));
    let deactivated = find_user(&*write, id).await?;
    write.commit().await?;
    if user.active {
        announce_access_revoked(request, id, None).await;
    }
    Ok(deactivated)
}

/// Tells every instance that `actor_id`'s access ended (or one session of
/// it), so that its live connections close now; after the change that
/// ended it has committed.
pub async fn announce_access_revoked(
    request: &RequestContext,
    actor_id: Uuid,
    session_id: Option<Uuid>,
) {
    if let Some(bus) = &request.events {
        bus.publish(crate::events::DomainEvent::AccessRevoked {
            actor_id,
            session_id,
        })
        .await;
    }
}

/// Revokes every refresh token of a user.
///
/// # Errors
/// Database failures.
pub async fn revoke_all_sessions(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The account with this id.
///
/// # Errors
/// `NOT_FOUND` when there is none.
pub async fn find_user(db: &impl ConnectionTrait, id: Uuid) -> AppResult<users::Model> {
    users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound { entity: "user" })
}

/// The account with this id, if it exists and, when `session` is given,
/// that session (refresh-token family) of the account is still open: one
/// statement, with the session as an `EXISTS` on its indexed family id.
///
/// # Errors
/// Database failures.
pub async fn find_active_in_session(
    db: &impl ConnectionTrait,
    id: Uuid,
    session: Option<Uuid>,
) -> AppResult<Option<users::Model>> {
    let mut query = users::Entity::find_by_id(id);
    if let Some(session) = session {
        query = query.filter(Expr::exists(
            sea_orm::sea_query::Query::select()
                .expr(Expr::val(1))
                .from(refresh_tokens::Entity)
                .and_where(
                    Expr::col((refresh_tokens::Entity, refresh_tokens::Column::FamilyId))
                        .eq(session),
                )
                .and_where(
                    Expr::col((refresh_tokens::Entity, refresh_tokens::Column::UserId)).eq(id),
                )
                .and_where(
                    Expr::col((refresh_tokens::Entity, refresh_tokens::Column::RevokedAt))
                        .is_null(),
                )
                .to_owned(),
        ));
    }
    Ok(query.one(db).await?)
}

/// A `CONFLICT` for an update whose expected version is not current.
pub fn stale_version() -> AppError {
    AppError::Conflict(
        "the record was changed by someone else; reload it and apply your change again".to_owned(),
    )
}

/// Filters of the staff list.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (or only deactivated) accounts.
    pub active: Option<bool>,
}

/// Name of the ordering of the staff list, stored in its cursors.
pub const USERS_BY_EMAIL: &str = "users_by_email";

/// One page of staff, ordered by email, and the total matching the filter.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another list; database failures.
pub async fn list_users(
    db: &DatabaseConnection,
    filter: &UserFilter,
    page: &PageRequest,
) -> AppResult<(Page<users::Model>, i64)> {
    let mut query = users::Entity::find();
    if let Some(role) = filter.role {
        query = query.filter(users::Column::Role.eq(role));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::Column::Active.eq(active));
    }
    let total = total_count(db, &query, page).await?;
    if let Some((email, id)) = page.cursor_key::<(String, Uuid)>(USERS_BY_EMAIL)? {
        let after = page.direction == PageDirection::Forward;
        let key = Expr::tuple([
            Expr::col(users::Column::Email),
            Expr::col(users::Column::Id),
        ]);
        let at = Expr::tuple([Expr::value(email), Expr::value(id)]);
        query = query.filter(if after { key.gt(at) } else { key.lt(at) });
    }
    let order = match page.direction {
        PageDirection::Forward => sea_orm::Order::Asc,
        PageDirection::Backward => sea_orm::Order::Desc,
    };
    let rows = query
        .order_by(users::Column::Email, order.clone())
        .order_by(users::Column::Id, order)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok((page.into_page(rows), total))
}
