//! A shared rate limiter (Redis) with the in-process one behind it: while the shared one fails,
//! each node limits on its own, so an outage of Redis neither stops the bank nor lifts every
//! limit. After a failure the shared limiter is left alone for a few seconds, so that requests
//! do not each wait for a Redis that is down; then the next request tries it again.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use coffre_app::outage::Outage;
use coffre_app::ports::{BoxFuture, RateDecision, RateLimiter};

use crate::rate_limit::InProcessLimiter;

/// How long the in-process limiter decides alone after the shared one failed.
const RETRY_SHARED_AFTER: Duration = Duration::from_secs(5);

/// The shared limiter, or the in-process one while the shared one fails.
#[derive(Debug)]
pub(crate) struct FallbackLimiter {
    shared: Arc<dyn RateLimiter>,
    local: InProcessLimiter,
    /// After a failure, the shared limiter is left alone for a while.
    outage: Outage,
}

impl FallbackLimiter {
    /// `shared`, backed by an in-process limiter of `requests_per_minute`.
    pub(crate) fn new(shared: Arc<dyn RateLimiter>, requests_per_minute: NonZeroU32) -> Self {
        FallbackLimiter {
            shared,
            local: InProcessLimiter::per_minute(requests_per_minute),
            outage: Outage::default(),
        }
    }

    async fn decide(&self, key: &str) -> RateDecision {
        if !self.outage.ongoing() {
            match self.shared.check(key).await {
                Ok(decision) => {
                    if self.outage.answered() {
                        tracing::info!(
                            "shared rate limiter answers again: limits are shared by every node"
                        );
                    }
                    return decision;
                }
                // One line per outage, not one per request.
                Err(error) => {
                    if self.outage.failed(RETRY_SHARED_AFTER) {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "shared rate limiter unavailable: each node limits on its own"
                        );
                    }
                }
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
