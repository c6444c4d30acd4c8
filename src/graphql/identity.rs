//! Sign-in, the signed-in viewer, staff accounts and partner API clients.

use async_graphql::{Context, ID, Object};

use super::{
    app_state, page_cost,
    pagination::{KeysetCursor, PageRequest, connection, wants_total_count},
    parse_id, request_context,
    types::identity::{
        ApiClient, ApiClientConnection, ChangePasswordInput, ChangePasswordPayload,
        CreateApiClientInput, CreateApiClientPayload, CreateUserInput, CreateUserPayload,
        DeactivateUserInput, DeactivateUserPayload, LoginInput, LogoutInput, LogoutPayload,
        RefreshSessionInput, RevokeApiClientInput, RevokeApiClientPayload, SessionPayload,
        UpdateUserInput, UpdateUserPayload, User, UserConnection, UserFilter, Viewer,
    },
};
use crate::{
    auth::{actor::Actor, guards::Allow},
    domain::audit::{AuditAction, EntityType},
    error::AppError,
    services::{
        api_clients,
        audit::AuditEvent,
        sessions,
        users::{self, NewUser, UserChanges},
    },
};

/// Queries about the viewer, staff and partner clients.
#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The staff member or partner integration behind the token.
    #[graphql(guard = "Allow::AUTHENTICATED")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let state = app_state(ctx)?;
        match &request_context(ctx)?.actor {
            Actor::Staff(staff) => Ok(Viewer::User(
                users::find_user(&state.db, staff.id).await?.into(),
            )),
            Actor::Partner(partner) => api_clients::find_api_client(&state.db, partner.id)
                .await?
                .map(|client| Viewer::ApiClient(client.into()))
                .ok_or_else(|| {
                    AppError::NotFound {
                        entity: "API client",
                    }
                    .into()
                }),
            Actor::Anonymous | Actor::System => {
                Err(AppError::Unauthenticated("sign in to do this").into())
            }
        }
    }

    /// A staff account. Admins may read any; others only their own.
    #[graphql(guard = "USER_READERS")]
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: ID,
    ) -> async_graphql::Result<Option<User>> {
        user_by_id(ctx, &id).await
    }

    /// Staff accounts, ordered by email (admins only).
    #[graphql(
        guard = "Allow::ADMIN",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only accounts matching these filters.")] filter: Option<UserFilter>,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = users::UserFilter {
            role: filter.role,
            active: filter.active,
        };
        let (rows, total) = users::list_users(&state.db, &filter, &page).await?;
        for user in &rows.rows {
            state
                .audit
                .record(
                    request,
                    "users",
                    AuditEvent::new(AuditAction::Read).entity(EntityType::User, Some(user.id)),
                )
                .await;
        }
        Ok(connection(
            rows,
            total,
            |user| KeysetCursor::new(users::USERS_BY_EMAIL, &(&user.email, user.id)),
            User::from,
        )?
        .into())
    }

    /// Partner API clients, newest first (admins only).
    #[graphql(
        guard = "Allow::ADMIN",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn api_clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<ApiClientConnection> {
        let state = app_state(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let (rows, total) = api_clients::list_api_clients(&state.db, &page).await?;
        Ok(connection(
            rows,
            total,
            |client| KeysetCursor::new(api_clients::API_CLIENTS_NEWEST_FIRST, &client.id),
            ApiClient::from,
        )?
        .into())
    }
}

/// Signing in and out.
#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs a staff member in. Unknown email, wrong password and a
    /// deactivated account give the same UNAUTHENTICATED error; repeated
    /// failures lock the account and the client IP with growing back-off
    /// (RATE_LIMITED with `retryAfterSeconds`).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: LoginInput,
    ) -> async_graphql::Result<SessionPayload> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        Ok(sessions::login(
            &state.db,
            &state.keys,
            request,
            &input.email,
            input.password,
        )
        .await?
        .into())
    }

    /// Exchanges a refresh token for a new access token and refresh token.
    /// The old refresh token stops working; presenting it again revokes the
    /// whole session (theft detection). Sessions end after the policy's
    /// absolute lifetime however often they are refreshed.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RefreshSessionInput,
    ) -> async_graphql::Result<SessionPayload> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        Ok(
            sessions::refresh(&state.db, &state.keys, request, &input.refresh_token)
                .await?
                .into(),
        )
    }

    /// Ends the session of this refresh token.
    #[graphql(guard = "Allow::STAFF")]
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: LogoutInput,
    ) -> async_graphql::Result<LogoutPayload> {
        let state = app_state(ctx)?;
        sessions::logout(&state.db, request_context(ctx)?, &input.refresh_token).await?;
        Ok(LogoutPayload { logged_out: true })
    }

    /// Changes the signed-in user's password. Every other session and
    /// access token of the user stops working; a new session is returned.
    #[graphql(guard = "Allow::STAFF")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        let state = app_state(ctx)?;
        let session = sessions::change_password(
            &state.db,
            &state.keys,
            request_context(ctx)?,
            input.current_password,
            input.new_password,
        )
        .await?;
        Ok(ChangePasswordPayload {
            session: session.into(),
        })
    }
}

/// Managing staff accounts (admins only).
#[derive(Default)]
pub struct StaffMutation;

#[Object]
impl StaffMutation {
    /// Creates a staff account. Providers need a license.
    #[graphql(guard = "Allow::ADMIN")]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateUserInput,
    ) -> async_graphql::Result<CreateUserPayload> {
        let state = app_state(ctx)?;
        let new = NewUser {
            email: input.email,
            display_name: input.display_name,
            role: input.role,
            password: input.password,
            license: input.license.map(Into::into),
        };
        let user = users::create_user(&state.db, request_context(ctx)?, "createUser", new).await?;
        Ok(CreateUserPayload { user: user.into() })
    }

    /// Changes a staff account (email, name, role, license, whether a
    /// provider supervises amendments).
    #[graphql(guard = "Allow::ADMIN")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateUserInput,
    ) -> async_graphql::Result<UpdateUserPayload> {
        let state = app_state(ctx)?;
        let changes = UserChanges {
            email: input.email,
            display_name: input.display_name,
            role: input.role,
            license: input.license.map(Into::into),
            supervises_amendments: input.supervises_amendments,
        };
        let id = parse_id(&input.id, "id")?;
        let user = users::update_user(
            &state.db,
            request_context(ctx)?,
            id,
            input.expected_version,
            changes,
        )
        .await?;
        Ok(UpdateUserPayload { user: user.into() })
    }

    /// Deactivates a staff account: it cannot sign in, and its sessions and
    /// access tokens stop working at once. Records are kept.
    #[graphql(guard = "Allow::ADMIN")]
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeactivateUserInput,
    ) -> async_graphql::Result<DeactivateUserPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let user = users::deactivate_user(&state.db, request_context(ctx)?, id).await?;
        Ok(DeactivateUserPayload { user: user.into() })
    }
}

/// Managing partner API clients (admins only).
#[derive(Default)]
pub struct ApiClientMutation;

#[Object]
impl ApiClientMutation {
    /// Creates a partner API client and returns its key, once.
    #[graphql(guard = "Allow::ADMIN")]
    async fn create_api_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateApiClientInput,
    ) -> async_graphql::Result<CreateApiClientPayload> {
        let state = app_state(ctx)?;
        let (client, secret) = api_clients::create_api_client(
            &state.db,
            request_context(ctx)?,
            &input.name,
            &input.scopes,
        )
        .await?;
        Ok(CreateApiClientPayload {
            api_client: client.into(),
            secret,
        })
    }

    /// Revokes a partner API client; its key is refused from now on.
    #[graphql(guard = "Allow::ADMIN")]
    async fn revoke_api_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RevokeApiClientInput,
    ) -> async_graphql::Result<RevokeApiClientPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let client = api_clients::revoke_api_client(&state.db, request_context(ctx)?, id).await?;
        Ok(RevokeApiClientPayload {
            api_client: client.into(),
        })
    }
}

/// Who may read one user by id, through the `user` root and through
/// `node(id:)` alike.
pub(crate) const USER_READERS: Allow = Allow::STAFF;

/// The user with this id, as its root field answers it (its access check
/// and read audit), `None` when there is none; for callers [`USER_READERS`]
/// admits.
///
/// # Errors
/// FORBIDDEN, or the database's error.
pub(crate) async fn user_by_id(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<User>> {
    let state = app_state(ctx)?;
    let request = request_context(ctx)?;
    let id = parse_id(id, "id")?;
    if !Allow::ADMIN.admits(&request.actor) && request.actor.id() != Some(id) {
        return Err(AppError::Forbidden.into());
    }
    let user = match users::find_user(&state.db, id).await {
        Ok(user) => user,
        Err(AppError::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    state
        .audit
        .record(
            request,
            "user",
            AuditEvent::new(AuditAction::Read).entity(EntityType::User, Some(id)),
        )
        .await;
    Ok(Some(user.into()))
}
