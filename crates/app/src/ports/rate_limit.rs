//! Request rate limits: one bucket per client and route class, checked on every request.
//! In process by default; in Redis when nodes must share the buckets. Held as a trait object,
//! because the backend is chosen at start.

use std::fmt::Debug;
use std::time::Duration;

use crate::ports::BoxFuture;

/// What a limiter decided for one request, and what to tell the client about its allowance
/// (the `RateLimit-*` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may go ahead (it then used one unit of the allowance).
    pub allowed: bool,
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Until the allowance is whole again.
    pub reset_after: Duration,
    /// For a refused request: until one more would be allowed.
    pub retry_after: Duration,
}

/// Counts requests against a per-key allowance (GCRA: an even rate with a burst of a whole
/// window's allowance).
pub trait RateLimiter: Debug + Send + Sync + 'static {
    /// Counts one request for `key` and says whether it may go ahead. An unreachable backend
    /// is an error; the caller decides what that means (Coffre fails open, see the HTTP layer).
    fn check<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<RateDecision, anyhow::Error>>;
}
