//! The list of revoked access-token ids. It is checked on every API call made with a token, so
//! it is its own port: the database's table by default, or Redis when nodes share one (entries
//! there expire with the token). Held as a trait object, because the backend is chosen at start.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::StoreError;

/// A boxed, sendable future (what an object-safe async method returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Revoked access-token ids, each kept until its token would have expired anyway.
pub trait RevocationList: Debug + Send + Sync + 'static {
    /// Revokes `jti` until `expires_at` (idempotent).
    fn revoke(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// True when `jti` is revoked. An unreachable backend is an error, never "not revoked":
    /// a revocation must not silently stop working.
    fn is_revoked(&self, jti: Uuid) -> BoxFuture<'_, Result<bool, StoreError>>;
}
