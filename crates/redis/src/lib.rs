//! Coffre's Redis adapter: state every node of a cluster must see at once: the list of revoked
//! access-token ids (`RevocationList`: a token revoked through one node is refused by every
//! other on its next request, each entry expiring when its token would have), the request
//! rate limits (`RateLimiter`, [`RedisRateLimiter`]) and the read cache (`SharedCache`,
//! [`RedisCache`]).

mod cache;
mod rate_limit;

pub use cache::RedisCache;
pub use rate_limit::RedisRateLimiter;

use std::time::Duration;

use coffre_app::ports::{BoxFuture, RevocationList, StoreError};
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::OffsetDateTime;
use uuid::Uuid;

/// Revoked access-token ids in Redis, one key each: `coffre:revoked:<jti>`.
#[derive(Clone)]
pub struct RedisRevocations {
    connection: ConnectionManager,
}

impl std::fmt::Debug for RedisRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never shown.
        f.write_str("RedisRevocations")
    }
}

/// Connects to the Redis at `url`, reconnecting on demand. A connection attempt or a reply
/// that takes longer than this is an error: callers fail open (or refuse, for revocations)
/// at once rather than queue behind a Redis that is down.
const CALL_LIMIT: Duration = Duration::from_millis(250);

/// A connection to the Redis at `url` that reconnects on the next call after a failure, with
/// one attempt per call: while Redis is down, each call fails within [`CALL_LIMIT`] instead of
/// waiting for a series of retries.
async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_number_of_retries(0)
        .set_connection_timeout(Some(CALL_LIMIT))
        .set_response_timeout(Some(CALL_LIMIT));
    Ok(ConnectionManager::new_with_config(client, config).await?)
}

/// Waits for `call` at most `limit`: a call that takes longer is an error, like one that fails.
async fn within<T>(
    limit: Duration,
    call: impl Future<Output = redis::RedisResult<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| anyhow::anyhow!("Redis did not answer within {} ms", limit.as_millis()))?
        .map_err(anyhow::Error::from)
}

fn key(jti: Uuid) -> String {
    format!("coffre:revoked:{jti}")
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::Unavailable(anyhow::Error::new(error).context("Redis"))
}

impl RedisRevocations {
    /// Connects (and keeps reconnecting) to the Redis at `url`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(RedisRevocations {
            connection: connect(url).await?,
        })
    }
}

impl RevocationList for RedisRevocations {
    fn revoke(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut connection = self.connection.clone();
        Box::pin(async move {
            let seconds = (expires_at - OffsetDateTime::now_utc()).whole_seconds();
            // An expired token needs no entry: it is refused anyway.
            let Ok(seconds) = u64::try_from(seconds) else {
                return Ok(());
            };
            // One second more than the token's life, so that clock rounding never lets it back.
            let _: () = connection
                .set_ex(key(jti), 1u8, seconds.saturating_add(1))
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn is_revoked(&self, jti: Uuid) -> BoxFuture<'_, Result<bool, StoreError>> {
        let mut connection = self.connection.clone();
        Box::pin(async move { connection.exists(key(jti)).await.map_err(unavailable) })
    }
}
