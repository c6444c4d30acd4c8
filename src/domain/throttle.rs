//! Login throttling with growing back-off, per account and per client IP.

use chrono::{DateTime, Duration, Utc};

/// The throttling policy of one kind of key (account or IP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed within a window before a lock starts.
    pub free_failures: u32,
    /// First lock length; each further failure doubles it.
    pub first_lock: Duration,
    /// Longest lock.
    pub max_lock: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// Past the free failures, lock until the window ends (a quota: so
    /// many per window) instead of for a doubling time (a back-off).
    pub until_window_ends: bool,
}

/// Per account: the 5th failure within 15 minutes locks it for 30 s, each
/// further one for twice as long, up to 15 min.
pub const ACCOUNT_THROTTLE: ThrottlePolicy = ThrottlePolicy {
    free_failures: 4,
    first_lock: Duration::seconds(30),
    max_lock: Duration::minutes(15),
    window: Duration::minutes(15),
    until_window_ends: false,
};

/// Per client IP (several staff behind one clinic NAT): the 20th failure
/// within 15 minutes locks it for 30 s, doubling up to 15 min.
pub const IP_THROTTLE: ThrottlePolicy = ThrottlePolicy {
    free_failures: 19,
    first_lock: Duration::seconds(30),
    max_lock: Duration::minutes(15),
    window: Duration::minutes(15),
    until_window_ends: false,
};

/// Public consultation requests per client IP (R-HONEYPOT's rate limit):
/// `per_window` in 15 minutes, counted from the first; the next is refused
/// until those 15 minutes have passed.
pub fn submission_throttle(per_window: u32) -> ThrottlePolicy {
    ThrottlePolicy {
        // Each accepted request is recorded after it is stored: the last
        // one allowed locks the key.
        free_failures: per_window.saturating_sub(1),
        first_lock: SUBMISSION_WINDOW,
        max_lock: SUBMISSION_WINDOW,
        window: SUBMISSION_WINDOW,
        until_window_ends: true,
    }
}

/// The window of the public submission quota.
const SUBMISSION_WINDOW: Duration = Duration::minutes(15);

/// The recorded failures of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures in the current window.
    pub failures: u32,
    /// When the current window began.
    pub window_started_at: DateTime<Utc>,
    /// Attempts are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
}

impl ThrottlePolicy {
    /// Seconds until an attempt may be made, if the key is locked at `now`.
    pub fn retry_after(&self, state: Option<&ThrottleState>, now: DateTime<Utc>) -> Option<u64> {
        let locked_until = state?.locked_until?;
        (locked_until > now).then(|| {
            let seconds = ((locked_until - now).num_milliseconds() + 999) / 1000;
            u64::try_from(seconds).unwrap_or(1).max(1)
        })
    }

    /// The state after one more failure at `now`: the window restarts when
    /// it has passed, and past the free failures each failure locks the key
    /// for twice as long as the previous one.
    pub fn after_failure(
        &self,
        state: Option<&ThrottleState>,
        now: DateTime<Utc>,
    ) -> ThrottleState {
        let (failures, window_started_at) = match state {
            Some(state) if now - state.window_started_at <= self.window => {
                (state.failures.saturating_add(1), state.window_started_at)
            }
            _ => (1, now),
        };
        let locked_until = failures.checked_sub(self.free_failures).and_then(|excess| {
            (excess > 0).then(|| {
                if self.until_window_ends {
                    return window_started_at + self.window;
                }
                let doublings = (excess - 1).min(16);
                let lock = self.first_lock * 2i32.pow(doublings);
                now + lock.min(self.max_lock)
            })
        });
        ThrottleState {
            failures,
            window_started_at,
            locked_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn failures(policy: ThrottlePolicy, count: u32) -> ThrottleState {
        let mut state = None;
        for _ in 0..count {
            state = Some(policy.after_failure(state.as_ref(), at(0)));
        }
        state.unwrap()
    }

    #[test]
    fn ten_submissions_per_window_then_none_until_it_ends() {
        let policy = submission_throttle(10);
        let mut state = None;
        for n in 0..10 {
            let now = at(n * 60);
            assert_eq!(
                policy.retry_after(state.as_ref(), now),
                None,
                "submission {n}"
            );
            state = Some(policy.after_failure(state.as_ref(), now));
        }
        // The 11th, 9 minutes after the first, waits out the other 6.
        assert_eq!(policy.retry_after(state.as_ref(), at(540)), Some(360));
        assert_eq!(policy.retry_after(state.as_ref(), at(900)), None);
        let fresh = policy.after_failure(state.as_ref(), at(901));
        assert_eq!((fresh.failures, fresh.locked_until), (1, None));
    }

    #[test]
    fn free_failures_do_not_lock() {
        let state = failures(ACCOUNT_THROTTLE, 4);
        assert_eq!(state.failures, 4);
        assert_eq!(state.locked_until, None);
        assert_eq!(ACCOUNT_THROTTLE.retry_after(Some(&state), at(0)), None);
    }

    #[test]
    fn the_fifth_account_failure_and_the_twentieth_ip_failure_lock() {
        let account = failures(ACCOUNT_THROTTLE, 5);
        assert_eq!(
            ACCOUNT_THROTTLE.retry_after(Some(&account), at(0)),
            Some(30)
        );
        let ip = failures(IP_THROTTLE, 19);
        assert_eq!(IP_THROTTLE.retry_after(Some(&ip), at(0)), None);
        let ip = failures(IP_THROTTLE, 20);
        assert_eq!(IP_THROTTLE.retry_after(Some(&ip), at(0)), Some(30));
    }

    #[test]
    fn each_further_failure_doubles_the_lock_up_to_the_cap() {
        let mut state = ThrottleState {
            failures: 4,
            window_started_at: at(0),
            locked_until: None,
        };
        let mut locks = Vec::new();
        for _ in 0..8 {
            state = ACCOUNT_THROTTLE.after_failure(Some(&state), at(10));
            locks.push((state.locked_until.unwrap() - at(10)).num_seconds());
        }
        assert_eq!(locks, vec![30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(
            ACCOUNT_THROTTLE.retry_after(Some(&state), at(10)),
            Some(900)
        );
        assert_eq!(ACCOUNT_THROTTLE.retry_after(Some(&state), at(910)), None);
    }

    #[test]
    fn old_failures_are_forgotten_after_the_window() {
        let state = ThrottleState {
            failures: 9,
            window_started_at: at(0),
            locked_until: Some(at(100)),
        };
        let next = ACCOUNT_THROTTLE.after_failure(Some(&state), at(16 * 60));
        assert_eq!(next.failures, 1);
        assert_eq!(next.locked_until, None);
    }

    #[test]
    fn retry_after_rounds_up() {
        let state = ThrottleState {
            failures: 6,
            window_started_at: at(0),
            locked_until: Some(at(30)),
        };
        let now = at(29) + Duration::milliseconds(1);
        assert_eq!(ACCOUNT_THROTTLE.retry_after(Some(&state), now), Some(1));
    }
}
