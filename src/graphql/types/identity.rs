//! Staff, partner clients, sessions: `User`, `License`, `ApiClient`,
//! `Viewer`, `SessionPayload` and their inputs and payloads.

use async_graphql::{ID, InputObject, SimpleObject, Union};

use crate::graphql::scalars::{Date, Timestamp};

use crate::{
    auth::guards::Allow,
    domain::staff::{License as DomainLicense, LicenseKind, Role},
    entities::{api_clients, users},
    services::{api_clients::scopes_of, sessions::Session, users::license_of},
};

/// The staff member with this id, through the request's loader.
///
/// # Errors
/// The loader's database error.
pub async fn load_user(
    ctx: &async_graphql::Context<'_>,
    id: uuid::Uuid,
) -> async_graphql::Result<Option<User>> {
    Ok(ctx
        .data::<crate::graphql::loaders::Loaders>()?
        .users
        .load_one(id)
        .await?
        .and_then(|rows| rows.into_iter().next())
        .map(|row| User::from(&*row)))
}

/// A staff member's account.
#[derive(SimpleObject, Clone, Debug)]
pub struct User {
    /// The user's id.
    pub id: ID,
    /// Login email (lower-cased; never shown to partners).
    #[graphql(guard = "Allow::NOT_PARTNERS")]
    pub email: Option<String>,
    /// Name shown to colleagues and on charts.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// False once the account is deactivated; it can no longer sign in.
    pub active: bool,
    /// Professional license, for licensed staff (R-LICENSE; never shown to
    /// partners).
    #[graphql(guard = "Allow::NOT_PARTNERS")]
    pub license: Option<License>,
    /// Whether an admin designated this provider to amend procedures other
    /// providers performed (under the `PERFORMER_AND_SUPERVISORS` amendment
    /// policy; never shown to partners).
    #[graphql(guard = "Allow::NOT_PARTNERS")]
    pub supervises_amendments: Option<bool>,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the account last changed.
    pub updated_at: Timestamp,
    /// Version for optimistic locking; pass it as `expectedVersion` to `updateUser`.
    pub version: i32,
}

impl From<users::Model> for User {
    fn from(user: users::Model) -> Self {
        Self::from(&user)
    }
}

/// From a row the request's loaders share: copies only what is shown (not
/// the password hash or the other account columns).
impl From<&users::Model> for User {
    fn from(user: &users::Model) -> Self {
        Self {
            license: license_of(user).map(License::from),
            id: ID(user.id.to_string()),
            email: Some(user.email.clone()),
            display_name: user.display_name.clone(),
            role: user.role,
            active: user.active,
            supervises_amendments: Some(user.supervises_amendments),
            created_at: user.created_at.into(),
            updated_at: user.updated_at.into(),
            version: user.version,
        }
    }
}

/// A professional license.
#[derive(SimpleObject, Clone, Debug)]
pub struct License {
    /// License number as issued.
    pub number: String,
    /// Kind of license.
    pub kind: LicenseKind,
    /// State or authority that issued it.
    pub issuing_state: String,
    /// Last day the license is valid.
    pub expires_on: Date,
}

impl From<DomainLicense> for License {
    fn from(license: DomainLicense) -> Self {
        Self {
            number: license.number,
            kind: license.kind,
            issuing_state: license.issuing_state,
            expires_on: license.expires_on.into(),
        }
    }
}

/// A professional license to record.
#[derive(InputObject, Clone, Debug)]
pub struct LicenseInput {
    /// License number as issued.
    pub number: String,
    /// Kind of license.
    pub kind: LicenseKind,
    /// State or authority that issued it.
    pub issuing_state: String,
    /// Last day the license is valid.
    pub expires_on: Date,
}

impl From<LicenseInput> for DomainLicense {
    fn from(input: LicenseInput) -> Self {
        Self {
            number: input.number,
            kind: input.kind,
            issuing_state: input.issuing_state,
            expires_on: input.expires_on.into(),
        }
    }
}

/// A partner integration (booking widget, CRM) with an API key.
#[derive(SimpleObject, Clone, Debug)]
pub struct ApiClient {
    /// The client's id.
    pub id: ID,
    /// The partner's name.
    pub name: String,
    /// What the key may do, e.g. `consultation_requests:write`.
    pub scopes: Vec<String>,
    /// The public start of the key (`dg_<keyPrefix>_…`), to tell keys apart.
    pub key_prefix: String,
    /// False once revoked; a revoked key is refused at once.
    pub active: bool,
    /// When the client was created.
    pub created_at: Timestamp,
    /// When the key was last used (to the minute).
    pub last_used_at: Option<Timestamp>,
    /// When the client was revoked.
    pub revoked_at: Option<Timestamp>,
    /// Version for optimistic locking.
    pub version: i32,
}

impl From<api_clients::Model> for ApiClient {
    fn from(client: api_clients::Model) -> Self {
        Self {
            scopes: scopes_of(&client)
                .iter()
                .map(|scope| scope.as_str().to_owned())
                .collect(),
            id: ID(client.id.to_string()),
            name: client.name,
            key_prefix: client.key_prefix,
            active: client.active,
            created_at: client.created_at.into(),
            last_used_at: client.last_used_at.map(Into::into),
            revoked_at: client.revoked_at.map(Into::into),
            version: client.version,
        }
    }
}

/// Who is behind the token: a staff member or a partner integration.
#[derive(Union, Clone, Debug)]
pub enum Viewer {
    /// A staff member signed in with an access token.
    User(User),
    /// A partner integration using an API key.
    ApiClient(ApiClient),
}

/// A signed-in session.
#[derive(SimpleObject, Clone, Debug)]
pub struct SessionPayload {
    /// Short-lived (15 min) token for `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque token for `refreshSession`; each use returns a new one, and
    /// the old one stops working. Store it securely.
    pub refresh_token: String,
    /// When the access token expires; refresh the session before then.
    pub access_token_expires_at: Timestamp,
    /// The signed-in user.
    pub user: User,
}

impl From<Session> for SessionPayload {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            access_token_expires_at: session.access_token_expires_at.into(),
            user: session.user.into(),
        }
    }
}

/// Credentials of a staff member.
#[derive(InputObject)]
pub struct LoginInput {
    /// Login email (case-insensitive).
    pub email: String,
    /// The account's password. A wrong one fails with UNAUTHENTICATED; repeated
    /// failures are throttled (RATE_LIMITED, with the seconds to wait).
    #[graphql(secret)]
    pub password: String,
}

/// A refresh token to exchange.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token from `login` or the last `refreshSession`.
    #[graphql(secret)]
    pub refresh_token: String,
}

/// The session to end.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The session's current refresh token.
    #[graphql(secret)]
    pub refresh_token: String,
}

/// The outcome of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// True: the session and its refresh tokens are revoked.
    pub logged_out: bool,
}

/// A password change by the signed-in user.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The signed-in user's password in use now, to confirm it is them; a wrong
    /// one fails with BAD_USER_INPUT.
    #[graphql(secret)]
    pub current_password: String,
    /// The new password, 12 to 128 characters.
    #[graphql(secret)]
    pub new_password: String,
}

/// The outcome of `changePassword`.
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// A new session for this device; every other session and access token
    /// of the user was revoked.
    pub session: SessionPayload,
}

/// A staff account to create.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Login email, unique (case-insensitive).
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// What the account may do: ADMIN, PROVIDER (needs a `license`) or
    /// FRONT_DESK.
    pub role: Role,
    /// Initial password, 12 to 128 characters.
    #[graphql(secret)]
    pub password: String,
    /// Professional license; required for providers.
    pub license: Option<LicenseInput>,
}

/// The created account.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The new user.
    pub user: User,
}

/// Changes to a staff account; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user to change.
    pub id: ID,
    /// The `version` you last read; a stale one fails with CONFLICT.
    pub expected_version: i32,
    /// New login email.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New license.
    pub license: Option<LicenseInput>,
    /// Designate (or stop designating) this provider as one who may amend
    /// procedures other providers performed; only providers can be.
    pub supervises_amendments: Option<bool>,
}

/// The changed account.
#[derive(SimpleObject)]
pub struct UpdateUserPayload {
    /// The user as it is now.
    pub user: User,
}

/// The account to deactivate.
#[derive(InputObject)]
pub struct DeactivateUserInput {
    /// The user to deactivate.
    pub id: ID,
}

/// The deactivated account.
#[derive(SimpleObject)]
pub struct DeactivateUserPayload {
    /// The user, now inactive.
    pub user: User,
}

/// A partner integration to create.
#[derive(InputObject)]
pub struct CreateApiClientInput {
    /// The partner's name.
    pub name: String,
    /// Scopes to grant, e.g. `["consultation_requests:write"]`.
    pub scopes: Vec<String>,
}

/// The created client and its key.
#[derive(SimpleObject)]
pub struct CreateApiClientPayload {
    /// The new client.
    pub api_client: ApiClient,
    /// The API key (`dg_…`). Shown only now: store it in the partner's
    /// secret store; it cannot be retrieved again.
    pub secret: String,
}

/// The client to revoke.
#[derive(InputObject)]
pub struct RevokeApiClientInput {
    /// The client to revoke.
    pub id: ID,
}

/// The revoked client.
#[derive(SimpleObject)]
pub struct RevokeApiClientPayload {
    /// The client, now inactive.
    pub api_client: ApiClient,
}

/// Filters of the staff list.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (true) or deactivated (false) accounts.
    pub active: Option<bool>,
}

crate::connection_types!(
    UserConnection,
    UserEdge,
    User,
    "A page of staff accounts.",
    "A staff account with its cursor."
);
crate::connection_types!(
    ApiClientConnection,
    ApiClientEdge,
    ApiClient,
    "A page of partner API clients.",
    "A partner API client with its cursor."
);
