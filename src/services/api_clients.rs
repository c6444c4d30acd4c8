//! Partner API clients: keys shown once, stored hashed, scoped, revocable.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    auth::{
        actor::{Partner, RequestContext},
        secrets::{NewApiKey, matches_hash, parse_api_key, sha256_hex},
    },
    domain::{
        audit::{AuditAction, EntityType},
        scope::ApiScope,
    },
    entities::api_clients,
    error::{AppError, AppResult},
    graphql::pagination::{Page, PageRequest},
    services::{
        audit::{AuditEvent, AuditedWrite},
        listing::newest_first,
    },
};

/// How stale `last_used_at` may get before a request refreshes it.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

/// The scopes stored on a client.
pub fn scopes_of(client: &api_clients::Model) -> BTreeSet<ApiScope> {
    client
        .scopes
        .split_whitespace()
        .filter_map(|name| name.parse().ok())
        .collect()
}

/// Parses scope names given by an admin.
///
/// # Errors
/// `BAD_USER_INPUT` on `scopes` for an unknown name or an empty list.
pub fn parse_scopes(names: &[String]) -> AppResult<BTreeSet<ApiScope>> {
    let scopes = names
        .iter()
        .map(|name| {
            name.trim().parse::<ApiScope>().map_err(|_| {
                let known: Vec<_> = ApiScope::ALL.iter().map(|scope| scope.as_str()).collect();
                AppError::bad_input(
                    "scopes",
                    format!("unknown scope {name:?}; known scopes: {}", known.join(", ")),
                )
            })
        })
        .collect::<AppResult<BTreeSet<_>>>()?;
    if scopes.is_empty() {
        return Err(AppError::bad_input(
            "scopes",
            "give the client at least one scope",
        ));
    }
    Ok(scopes)
}

/// Creates a client and returns it with its full key, which is never
/// retrievable again.
///
/// # Errors
/// `BAD_USER_INPUT` on `name` or `scopes`.
pub async fn create_api_client(
    db: &DatabaseConnection,
    request: &RequestContext,
    name: &str,
    scope_names: &[String],
) -> AppResult<(api_clients::Model, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "name",
            "the name must have 1 to 200 printable characters",
        ));
    }
    let scopes = parse_scopes(scope_names)?;
    let creator = request.actor.id().ok_or(AppError::Forbidden)?;
    let key = NewApiKey::generate();
    let mut write = AuditedWrite::begin(db, request, "createApiClient").await?;
    let client = api_clients::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        scopes: Set(scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(" ")),
        key_prefix: Set(key.key_id.clone()),
        secret_hash: Set(sha256_hex(&key.secret)),
        active: Set(true),
        created_by: Set(creator),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        version: Set(1),
    }
    .insert(&*write)
    .await?;
    write
        .audit(AuditEvent::new(AuditAction::Create).entity(EntityType::ApiClient, Some(client.id)));
    write.commit().await?;
    Ok((client, key.full_key()))
}

/// Revokes a client: its key stops working at once.
///
/// # Errors
/// `NOT_FOUND` when there is no such client.
pub async fn revoke_api_client(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
) -> AppResult<api_clients::Model> {
    let mut write = AuditedWrite::begin(db, request, "revokeApiClient").await?;
    api_clients::Entity::update_many()
        .col_expr(api_clients::Column::Active, Expr::value(false))
        .col_expr(api_clients::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(
            api_clients::Column::Version,
            Expr::col(api_clients::Column::Version).add(1),
        )
        .filter(api_clients::Column::Id.eq(id))
        .filter(api_clients::Column::Active.eq(true))
        .exec(&*write)
        .await?;
    let client = api_clients::Entity::find_by_id(id)
        .one(&*write)
        .await?
        .ok_or(AppError::NotFound {
            entity: "API client",
        })?;
    write.audit(AuditEvent::new(AuditAction::Revoke).entity(EntityType::ApiClient, Some(id)));
    write.commit().await?;
    crate::services::users::announce_access_revoked(request, id, None).await;
    Ok(client)
}

/// The partner behind a presented key, if the key is valid and active.
/// Refreshes `last_used_at` at most once a minute.
///
/// # Errors
/// Database failures.
pub async fn authenticate_key(db: &DatabaseConnection, key: &str) -> AppResult<Option<Partner>> {
    let Some((key_id, secret)) = parse_api_key(key) else {
        return Ok(None);
    };
    let Some(client) = api_clients::Entity::find()
        .filter(api_clients::Column::KeyPrefix.eq(key_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !client.active || !matches_hash(secret, &client.secret_hash) {
        return Ok(None);
    }
    let now = Utc::now();
    if client
        .last_used_at
        .is_none_or(|used| now - used > LAST_USED_RESOLUTION)
    {
        api_clients::Entity::update_many()
            .col_expr(api_clients::Column::LastUsedAt, Expr::value(now))
            .filter(api_clients::Column::Id.eq(client.id))
            .exec(db)
            .await?;
    }
    Ok(Some(Partner {
        id: client.id,
        name: client.name.clone(),
        scopes: scopes_of(&client),
    }))
}

/// The client with this id.
///
/// # Errors
/// Database failures.
pub async fn find_api_client(
    db: &DatabaseConnection,
    id: Uuid,
) -> AppResult<Option<api_clients::Model>> {
    Ok(api_clients::Entity::find_by_id(id).one(db).await?)
}

/// Name of the ordering of the client list (newest first), in its cursors.
pub const API_CLIENTS_NEWEST_FIRST: &str = "api_clients_newest_first";

/// One page of clients, newest first, and their total.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another list; database failures.
pub async fn list_api_clients(
    db: &DatabaseConnection,
    page: &PageRequest,
) -> AppResult<(Page<api_clients::Model>, i64)> {
    newest_first(
        db,
        api_clients::Entity::find(),
        api_clients::Column::Id,
        API_CLIENTS_NEWEST_FIRST,
        page,
    )
    .await
}
