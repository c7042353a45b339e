//! The store's housekeeping port: readiness, and deleting what can no longer be used.

use std::future::Future;

use time::OffsetDateTime;

use crate::ports::StoreError;

/// The instants before which sessions and throttle states are of no further use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// Now: a session expiring at or before it is over, a lockout ending before it is over.
    pub now: OffsetDateTime,
    /// A session last seen before this is idle for good.
    pub idle_since: OffsetDateTime,
    /// A throttle window that started before this no longer counts.
    pub window_started: OffsetDateTime,
}

/// What keeps the store serviceable.
pub trait Housekeeping: Clone + Send + Sync + 'static {
    /// Checks that the database answers (readiness).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes what can no longer be used: sessions past their absolute expiry or idle since
    /// before `cutoffs.idle_since`, throttle states whose window started before
    /// `cutoffs.window_started` and that lock nothing out at `cutoffs.now`, and idempotency
    /// records, authorization codes, refresh tokens, login challenges and revoked access-token
    /// ids that expired at or before `cutoffs.now` (a used refresh token stays until it
    /// expires, so that its replay is still detected). Returns how many rows went.
    fn purge_expired(
        &self,
        cutoffs: PurgeCutoffs,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
