//! Failed-login throttling: a pure policy over a stored state.
//!
//! A key (an account or an IP address) may make `max_failures` attempts within `window`; the
//! next attempt locks it out for `lockout`. Each attempt is *reserved* before the password is
//! checked (counted under the store's lock), so parallel attempts cannot all pass a check made
//! before any of them is counted; a successful login then gives its reservation back. Lockouts
//! expire by themselves. Keeping the rule pure lets it be tested without a database, and storing
//! the state in the database makes it hold across every node.

use time::{Duration, OffsetDateTime};

use crate::ports::ThrottleState;

/// How many failures a key may have, within what window, and how long a lockout lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed within a window before a lockout.
    pub max_failures: u32,
    /// The counting window.
    pub window: Duration,
    /// How long a lockout lasts.
    pub lockout: Duration,
}

impl ThrottlePolicy {
    /// Until when `state` locks its key out at `now`, if it does.
    pub fn locked_until(
        state: Option<&ThrottleState>,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        state
            .and_then(|s| s.locked_until)
            .filter(|until| *until > now)
    }

    /// The state after one more failure at `now`.
    pub fn after_failure(
        &self,
        state: Option<ThrottleState>,
        now: OffsetDateTime,
    ) -> ThrottleState {
        let fresh = ThrottleState {
            failures: 0,
            window_started_at: now,
            locked_until: None,
        };
        let mut next = match state {
            Some(s) if now - s.window_started_at < self.window => s,
            _ => fresh,
        };
        next.failures = next.failures.saturating_add(1);
        if next.failures > self.max_failures {
            next.locked_until = Some(now + self.lockout);
            // The lockout starts a new window: after it, the key gets its full allowance again.
            next.failures = 0;
            next.window_started_at = now + self.lockout;
        }
        next
    }
}

impl ThrottlePolicy {
    /// Counts an attempt at `now`, unless the key is already locked (then nothing changes).
    /// The attempt may go ahead when the returned state does not lock the key.
    pub fn reserve(&self, state: Option<ThrottleState>, now: OffsetDateTime) -> ThrottleState {
        match state {
            Some(locked) if ThrottlePolicy::locked_until(Some(&locked), now).is_some() => locked,
            other => self.after_failure(other, now),
        }
    }

    /// Gives back a reservation that turned out to be a successful login.
    pub fn refund(state: Option<ThrottleState>, now: OffsetDateTime) -> ThrottleState {
        match state {
            Some(mut s) if s.locked_until.is_none() => {
                s.failures = s.failures.saturating_sub(1);
                s
            }
            Some(s) => s,
            None => ThrottleState {
                failures: 0,
                window_started_at: now,
                locked_until: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        max_failures: 3,
        window: Duration::minutes(15),
        lockout: Duration::minutes(15),
    };
    const T0: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    #[test]
    fn the_failure_after_the_allowance_locks_the_key_and_the_lock_expires() {
        let mut state = None;
        for _ in 0..3 {
            state = Some(POLICY.after_failure(state, T0));
            assert_eq!(ThrottlePolicy::locked_until(state.as_ref(), T0), None);
        }
        state = Some(POLICY.after_failure(state, T0));
        assert_eq!(
            ThrottlePolicy::locked_until(state.as_ref(), T0),
            Some(T0 + Duration::minutes(15))
        );
        assert_eq!(
            ThrottlePolicy::locked_until(state.as_ref(), T0 + Duration::minutes(16)),
            None
        );
    }

    #[test]
    fn reservations_lock_the_key_on_the_attempt_after_the_allowance() {
        let mut state = None;
        for _ in 0..3 {
            state = Some(POLICY.reserve(state, T0));
            assert_eq!(ThrottlePolicy::locked_until(state.as_ref(), T0), None);
        }
        let refused = POLICY.reserve(state, T0);
        assert!(ThrottlePolicy::locked_until(Some(&refused), T0).is_some());
        // Locked: further attempts change nothing (the lockout does not grow).
        assert_eq!(
            POLICY.reserve(Some(refused), T0 + Duration::minutes(1)),
            refused
        );
    }

    #[test]
    fn a_refund_gives_one_attempt_back() {
        let reserved = POLICY.reserve(POLICY.reserve(None, T0).into(), T0);
        assert_eq!(reserved.failures, 2);
        assert_eq!(ThrottlePolicy::refund(Some(reserved), T0).failures, 1);
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let mut state = None;
        for _ in 0..3 {
            state = Some(POLICY.after_failure(state, T0));
        }
        let later = POLICY.after_failure(state, T0 + Duration::minutes(20));
        assert_eq!(later.failures, 1);
        assert_eq!(later.locked_until, None);
    }
}
