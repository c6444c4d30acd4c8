//! Guards for GraphQL fields: who may call an operation or read a field.
//! A refusal is answered with UNAUTHENTICATED or FORBIDDEN (and audited as
//! ACCESS_DENIED when the response is sent, see `http::graphql`); the same guard applies whether the field is reached at the
//! root or nested.

use async_graphql::{Context, Guard};

use crate::{
    auth::actor::{Actor, RequestContext},
    domain::{scope::ApiScope, staff::Role},
    error::AppError,
};

/// Who may pass: staff in some roles, and partners holding a scope (or any
/// partner, for operations every authenticated caller may use).
#[derive(Clone, Copy, Debug)]
pub struct Allow {
    roles: &'static [Role],
    scope: Option<ApiScope>,
    any_partner: bool,
    anonymous: bool,
}

const ALL_ROLES: &[Role] = &[Role::Admin, Role::Provider, Role::FrontDesk];

impl Allow {
    /// Any signed-in staff member or partner.
    pub const AUTHENTICATED: Self = Self {
        roles: ALL_ROLES,
        scope: None,
        any_partner: true,
        anonymous: false,
    };
    /// Administrators only.
    pub const ADMIN: Self = Self::staff(&[Role::Admin]);
    /// Any staff member; partners never.
    pub const STAFF: Self = Self::staff(ALL_ROLES);
    /// Clinical data (medical history, screening answers, clinical notes,
    /// device settings): admins and providers; never the front desk or a
    /// partner.
    pub const CLINICAL: Self = Self::staff(&[Role::Admin, Role::Provider]);
    /// The schedule (appointments, not clinical data): staff, or partners
    /// with `schedule:read`.
    pub const SCHEDULE_READERS: Self = Self::staff_or_scope(ALL_ROLES, ApiScope::ScheduleRead);
    /// Follow-ups: staff, or partners with `follow_ups:read`.
    pub const FOLLOW_UP_READERS: Self = Self::staff_or_scope(ALL_ROLES, ApiScope::FollowUpsRead);
    /// Working follow-ups: staff, or partners with `follow_ups:write`.
    pub const FOLLOW_UP_WRITERS: Self = Self::staff_or_scope(ALL_ROLES, ApiScope::FollowUpsWrite);

    /// Staff in the given roles.
    pub const fn staff(roles: &'static [Role]) -> Self {
        Self {
            roles,
            scope: None,
            any_partner: false,
            anonymous: false,
        }
    }

    /// Staff in the given roles, or a partner holding `scope`.
    pub const fn staff_or_scope(roles: &'static [Role], scope: ApiScope) -> Self {
        Self {
            roles,
            scope: Some(scope),
            any_partner: false,
            anonymous: false,
        }
    }

    /// Partners never; staff and callers signing in (who only reach user
    /// objects through their own session payload) may.
    pub const NOT_PARTNERS: Self = Self {
        roles: ALL_ROLES,
        scope: None,
        any_partner: false,
        anonymous: true,
    };

    /// Whether the actor passes.
    pub fn admits(&self, actor: &Actor) -> bool {
        match actor {
            Actor::Staff(staff) => self.roles.contains(&staff.role),
            Actor::Partner(partner) => {
                self.any_partner
                    || self
                        .scope
                        .is_some_and(|scope| partner.scopes.contains(&scope))
            }
            Actor::System => true,
            Actor::Anonymous => self.anonymous,
        }
    }
}

impl Guard for Allow {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let request = ctx.data::<RequestContext>()?;
        if self.admits(&request.actor) {
            return Ok(());
        }
        // The refusal is audited with the response (`http::graphql`).
        let error = match (&request.actor, request.credential_problem) {
            (Actor::Anonymous, Some(problem)) => AppError::Unauthenticated(problem.message()),
            (Actor::Anonymous, None) => AppError::Unauthenticated("sign in to do this"),
            _ => AppError::Forbidden,
        };
        Err(error.into())
    }
}
