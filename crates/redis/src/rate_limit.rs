//! Rate limits shared by every node: GCRA in one Lua script, so that checking and counting a
//! request is one atomic step in Redis, timed by Redis's own clock (nodes' clocks may differ).
//!
//! A bucket is one key holding its theoretical arrival time (TAT) in milliseconds, expiring
//! when the allowance is whole again, so idle clients cost nothing.

use std::num::NonZeroU32;
use std::time::Duration;

use coffre_app::ports::{BoxFuture, RateDecision, RateLimiter};
use redis::Script;
use redis::aio::ConnectionManager;

/// `KEYS[1]`: the bucket; `ARGV[1]`: milliseconds to earn one request (T); `ARGV[2]`: the
/// allowance (burst). Answers `{allowed, remaining, reset_ms, retry_ms}`.
const GCRA: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * limit
if allow_at > now then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((now + interval * limit - new_tat) / interval), new_tat - now, 0}
";

/// How long a check may take before the request goes ahead without one.
const TIMEOUT: Duration = Duration::from_millis(250);

/// `requests_per_minute` per key, shared through Redis (keys `coffre:rate:<key>`).
#[derive(Clone)]
pub struct RedisRateLimiter {
    connection: ConnectionManager,
    script: Script,
    limit: NonZeroU32,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection's URL may carry a password: never shown.
        f.debug_struct("RedisRateLimiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Counts against `requests_per_minute` per key in the Redis at `url`.
    pub async fn connect(url: &str, requests_per_minute: NonZeroU32) -> anyhow::Result<Self> {
        Ok(RedisRateLimiter {
            connection: crate::connect(url).await?,
            script: Script::new(GCRA),
            limit: requests_per_minute,
        })
    }

    async fn decide(&self, key: &str) -> anyhow::Result<RateDecision> {
        let mut connection = self.connection.clone();
        let interval_ms = 60_000 / u64::from(self.limit.get());
        let mut invocation = self.script.key(format!("coffre:rate:{key}"));
        invocation.arg(interval_ms.max(1)).arg(self.limit.get());
        let reply: Vec<i64> =
            crate::within(TIMEOUT, invocation.invoke_async(&mut connection)).await?;
        let [allowed, remaining, reset_ms, retry_ms] = reply.as_slice() else {
            anyhow::bail!("unexpected rate-limit reply {reply:?}");
        };
        let millis = |value: &i64| Duration::from_millis(u64::try_from(*value).unwrap_or(0));
        Ok(RateDecision {
            allowed: *allowed == 1,
            limit: self.limit.get(),
            remaining: u32::try_from(*remaining).unwrap_or(0),
            reset_after: millis(reset_ms),
            retry_after: millis(retry_ms),
        })
    }
}

impl RateLimiter for RedisRateLimiter {
    fn check<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<RateDecision, anyhow::Error>> {
        Box::pin(self.decide(key))
    }
}
