//! A shared rate limiter (Redis) with the in-process one behind it: while the shared one fails,
//! each node limits on its own, so an outage of Redis neither stops the bank nor lifts every
//! limit. After a failure the shared limiter is left alone for a few seconds, so that requests
//! do not each wait for a Redis that is down; then the next request tries it again.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coffre_app::ports::{BoxFuture, RateDecision, RateLimiter};
use tokio::time::Instant;

use crate::rate_limit::InProcessLimiter;

/// How long the in-process limiter decides alone after the shared one failed.
const RETRY_SHARED_AFTER: Duration = Duration::from_secs(5);

/// The shared limiter, or the in-process one while the shared one fails.
#[derive(Debug)]
pub(crate) struct FallbackLimiter {
    shared: Arc<dyn RateLimiter>,
    local: InProcessLimiter,
    /// Set while the shared limiter is failing: until when it is left alone.
    outage: Mutex<Option<Instant>>,
}

impl FallbackLimiter {
    /// `shared`, backed by an in-process limiter of `requests_per_minute`.
    pub(crate) fn new(shared: Arc<dyn RateLimiter>, requests_per_minute: NonZeroU32) -> Self {
        FallbackLimiter {
            shared,
            local: InProcessLimiter::per_minute(requests_per_minute),
            outage: Mutex::new(None),
        }
    }

    fn outage(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.outage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the shared limiter should be asked now.
    fn shared_is_worth_asking(&self) -> bool {
        self.outage().is_none_or(|until| Instant::now() >= until)
    }

    fn shared_answered(&self) {
        if self.outage().take().is_some() {
            tracing::info!("shared rate limiter answers again: limits are shared by every node");
        }
    }

    fn shared_failed(&self, error: &anyhow::Error) {
        let started = self
            .outage()
            .replace(Instant::now() + RETRY_SHARED_AFTER)
            .is_none();
        // One line per outage, not one per request.
        if started {
            tracing::warn!(
                error = format!("{error:#}"),
                "shared rate limiter unavailable: each node limits on its own"
            );
        }
    }

    async fn decide(&self, key: &str) -> RateDecision {
        if self.shared_is_worth_asking() {
            match self.shared.check(key).await {
                Ok(decision) => {
                    self.shared_answered();
                    return decision;
                }
                Err(error) => self.shared_failed(&error),
            }
        }
        metrics::counter!("coffre_rate_limiter_unavailable_total").increment(1);
        self.local.decide(key)
    }
}

impl RateLimiter for FallbackLimiter {
    fn check<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<RateDecision, anyhow::Error>> {
        Box::pin(async move { Ok(self.decide(key).await) })
    }
}
