//! The in-process rate limiter (governor's keyed GCRA), the default when nodes do not share a
//! Redis. Each node then enforces the limit on its own: behind a load balancer of N nodes a
//! client may get up to N times the limit.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use coffre_app::ports::{BoxFuture, RateDecision, RateLimiter};
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};

type Keyed =
    Governor<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Forgotten buckets are swept after this many checks, so idle clients do not keep memory.
const SWEEP_EVERY: u64 = 4096;

/// `requests_per_minute` per key, with a burst of a whole minute's allowance.
pub struct InProcessLimiter {
    limiter: Keyed,
    limit: NonZeroU32,
    checks: AtomicU64,
}

impl std::fmt::Debug for InProcessLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessLimiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl InProcessLimiter {
    /// A limiter allowing `requests_per_minute` per key.
    pub fn per_minute(requests_per_minute: NonZeroU32) -> Self {
        let quota = Quota::per_minute(requests_per_minute);
        InProcessLimiter {
            limiter: Governor::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            limit: requests_per_minute,
            checks: AtomicU64::new(0),
        }
    }

    /// Time to earn back one request.
    fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.limit.get()
    }

    /// Counts one request for `key`.
    pub(crate) fn decide(&self, key: &str) -> RateDecision {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let limit = self.limit.get();
        match self.limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                RateDecision {
                    allowed: true,
                    limit,
                    remaining,
                    reset_after: self.interval() * (limit - remaining.min(limit)),
                    retry_after: Duration::ZERO,
                }
            }
            Err(not_until) => {
                let retry_after = not_until.wait_time_from(DefaultClock::default().now());
                RateDecision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset_after: self.interval() * limit,
                    retry_after,
                }
            }
        }
    }
}

impl RateLimiter for InProcessLimiter {
    fn check<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<RateDecision, anyhow::Error>> {
        let decision = self.decide(key);
        Box::pin(async move { Ok(decision) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_at_once_then_waits_and_keys_are_separate() {
        let limiter = InProcessLimiter::per_minute(NonZeroU32::MIN.saturating_add(2));
        for expected_remaining in [2, 1, 0] {
            let decision = limiter.decide("a");
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
        }
        let refused = limiter.decide("a");
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::from_secs(15), "{refused:?}");
        assert!(
            refused.retry_after <= Duration::from_secs(20),
            "{refused:?}"
        );
        assert!(
            limiter.decide("b").allowed,
            "another key has its own allowance"
        );
    }
}
