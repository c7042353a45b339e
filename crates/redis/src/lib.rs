//! Coffre's Redis adapter: state every node of a cluster must see at once: the list of revoked
//! access-token ids (`RevocationList`: a token revoked through one node is refused by every
//! other on its next request, each entry expiring when its token would have) and the request
//! rate limits (`RateLimiter`, [`RedisRateLimiter`]).

mod rate_limit;

pub use rate_limit::RedisRateLimiter;

use coffre_app::ports::{BoxFuture, RevocationList, StoreError};
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;
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

fn key(jti: Uuid) -> String {
    format!("coffre:revoked:{jti}")
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::Unavailable(anyhow::Error::new(error).context("Redis"))
}

impl RedisRevocations {
    /// Connects (and keeps reconnecting) to the Redis at `url`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
        Ok(RedisRevocations { connection })
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
