//! Per-actor request budgets: each staff member, each API client and each
//! anonymous client IP gets its own token bucket (governor's GCRA), so one
//! noisy caller cannot starve the clinic's other users.
//!
//! Budgets live in this process. Behind a load balancer each instance keeps
//! its own, so the effective budget is the configured one times the number
//! of instances; the login throttle and the public-submission limit, which
//! must hold across instances, are kept in the database instead.

use std::{
    net::{IpAddr, Ipv4Addr},
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use uuid::Uuid;

use crate::{auth::actor::Actor, config::RateLimitConfig};

/// How many checks pass between sweeps of idle buckets.
const SWEEP_EVERY: u64 = 4096;

/// The request budgets of every actor.
pub struct ActorRateLimits {
    staff: DefaultKeyedRateLimiter<Uuid>,
    partners: DefaultKeyedRateLimiter<Uuid>,
    anonymous: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// A refused request: when the caller may try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    /// Whole seconds, at least 1.
    pub seconds: u64,
}

impl ActorRateLimits {
    /// Budgets from configuration; each allows a burst of one minute's worth.
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            staff: RateLimiter::keyed(per_minute(config.staff_per_minute)),
            partners: RateLimiter::keyed(per_minute(config.partner_per_minute)),
            anonymous: RateLimiter::keyed(per_minute(config.anonymous_per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Spends `operations` requests of the actor's budget (anonymous callers
    /// by client IP), or says when to retry. A batch larger than the whole
    /// budget can never pass and is refused with a one-minute wait.
    pub fn check(
        &self,
        actor: &Actor,
        client_ip: Option<IpAddr>,
        operations: u32,
    ) -> Result<(), RetryAfter> {
        self.sweep_now_and_then();
        let operations = NonZeroU32::new(operations).unwrap_or(NonZeroU32::MIN);
        let outcome = match actor {
            Actor::Staff(staff) => self.staff.check_key_n(&staff.id, operations),
            Actor::Partner(partner) => self.partners.check_key_n(&partner.id, operations),
            Actor::System => return Ok(()),
            Actor::Anonymous => {
                let ip = client_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                self.anonymous.check_key_n(&ip, operations)
            }
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(RetryAfter::from(not_until.wait_time_from(self.clock.now()))),
            Err(_) => Err(RetryAfter { seconds: 60 }),
        }
    }

    /// Forgets buckets that are full again, so memory follows the number of
    /// recently active callers rather than every caller ever seen.
    fn sweep_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        self.staff.retain_recent();
        self.partners.retain_recent();
        self.anonymous.retain_recent();
    }
}

impl From<Duration> for RetryAfter {
    fn from(wait: Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            seconds: seconds.max(1),
        }
    }
}

fn per_minute(requests: NonZeroU32) -> Quota {
    Quota::per_minute(requests)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{
        auth::actor::{Partner, StaffMember},
        domain::staff::Role,
    };

    fn limits(per_minute: u32) -> ActorRateLimits {
        let budget = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        ActorRateLimits::new(&RateLimitConfig {
            staff_per_minute: budget,
            partner_per_minute: budget,
            anonymous_per_minute: budget,
        })
    }

    fn staff() -> Actor {
        Actor::Staff(StaffMember {
            id: Uuid::now_v7(),
            role: Role::FrontDesk,
        })
    }

    #[test]
    fn a_burst_of_one_minutes_budget_passes_then_the_caller_waits() {
        let limits = limits(3);
        let nurse = staff();
        for _ in 0..3 {
            assert_eq!(limits.check(&nurse, None, 1), Ok(()));
        }
        let refused = limits.check(&nurse, None, 1);
        assert!(matches!(refused, Err(RetryAfter { seconds }) if (1..=20).contains(&seconds)));
    }

    #[test]
    fn each_actor_has_its_own_budget() {
        let limits = limits(1);
        let (first, second) = (staff(), staff());
        assert_eq!(limits.check(&first, None, 1), Ok(()));
        assert!(limits.check(&first, None, 1).is_err());
        assert_eq!(limits.check(&second, None, 1), Ok(()));
        let partner = Actor::Partner(Partner {
            id: Uuid::now_v7(),
            name: "Glow booking widget".to_owned(),
            scopes: BTreeSet::new(),
        });
        assert_eq!(limits.check(&partner, None, 1), Ok(()));
    }

    #[test]
    fn anonymous_callers_are_counted_per_ip() {
        let limits = limits(1);
        let first = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
        let second = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 8)));
        assert_eq!(limits.check(&Actor::Anonymous, first, 1), Ok(()));
        assert!(limits.check(&Actor::Anonymous, first, 1).is_err());
        assert_eq!(limits.check(&Actor::Anonymous, second, 1), Ok(()));
    }

    #[test]
    fn a_batch_spends_one_unit_per_operation() {
        let limits = limits(5);
        let nurse = staff();
        assert_eq!(limits.check(&nurse, None, 4), Ok(()));
        assert!(limits.check(&nurse, None, 2).is_err());
        assert_eq!(
            limits.check(&nurse, None, 6),
            Err(RetryAfter { seconds: 60 }),
            "more than the whole budget can never pass"
        );
    }

    #[test]
    fn the_server_itself_is_never_limited() {
        let limits = limits(1);
        for _ in 0..5 {
            assert_eq!(limits.check(&Actor::System, None, 1), Ok(()));
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter::from(Duration::from_millis(1)).seconds, 1);
        assert_eq!(RetryAfter::from(Duration::from_millis(1001)).seconds, 2);
        assert_eq!(RetryAfter::from(Duration::ZERO).seconds, 1);
    }
}
