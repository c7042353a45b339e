//! The read cache every node shares ([`SharedCache`]): each step one Lua script, so that a fill
//! and a forget are atomic with respect to each other.
//!
//! Keys, for a cache key `K` (such as `account:v1:<uuid>`):
//!
//! - `coffre:cache:entry:K`: a hash `{epoch, value}`, expiring with the entry's TTL;
//! - `coffre:cache:generation:K`: bumped by every forget of `K`;
//! - `coffre:cache:epoch`: a random token, replaced by a forget of everything. An entry of an
//!   older epoch is a miss.
//!
//! A ticket is `epoch:generation:taken_ms`, by Redis's clock. A fill is stored only if the
//! epoch and the generation are still those of its ticket, and the ticket is young enough.
//! The epoch is random rather than a counter, so that a Redis restarted empty (generations back
//! to nothing) starts a new epoch, and every ticket taken before the restart is refused.

use std::time::Duration;

use coffre_app::ports::{BoxFuture, Fill, FillTicket, Lookup, SharedCache};
use redis::aio::ConnectionManager;
use redis::{Script, ScriptInvocation};
use uuid::Uuid;

/// `KEYS`: epoch, generation, entry. `ARGV[1]`: an epoch to start if there is none.
/// Answers `{1, value}` for a hit, `{0, ticket}` for a miss.
const LOOKUP: &str = r"
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local entry = redis.call('HMGET', KEYS[3], 'epoch', 'value')
if entry[1] == epoch then
  return {1, entry[2]}
end
local generation = redis.call('GET', KEYS[2]) or '0'
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return {0, epoch .. ':' .. generation .. ':' .. now}
";

/// `KEYS`: epoch, generation, entry. `ARGV`: ticket, value, TTL (ms), the ticket's maximum
/// age (ms). Answers 1 when stored, 0 when refused.
const FILL: &str = r"
local epoch, generation, taken = string.match(ARGV[1], '^([%w%-]+):(%d+):(%d+)$')
if not epoch then
  return redis.error_reply('malformed cache ticket')
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if now - tonumber(taken) > tonumber(ARGV[4]) then
  return 0
end
if redis.call('GET', KEYS[1]) ~= epoch then
  return 0
end
if (redis.call('GET', KEYS[2]) or '0') ~= generation then
  return 0
end
redis.call('HSET', KEYS[3], 'epoch', epoch, 'value', ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
";

/// `KEYS`: generation and entry of each key, in pairs. `ARGV[1]`: how long a generation
/// lives (ms). Answers how many keys were forgotten.
const FORGET: &str = r"
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
  redis.call('DEL', KEYS[i + 1])
end
return #KEYS / 2
";

const EPOCH: &str = "coffre:cache:epoch";

/// How long a key's generation outlives its last forget. A generation that expired reads as
/// 0 again, which a ticket taken before the forget might hold: tickets are therefore refused
/// long before this (see [`MAX_TICKET_AGE`]).
const GENERATION_LIFETIME: Duration = Duration::from_secs(3600);

/// The oldest ticket ever accepted, whatever the caller allows.
const MAX_TICKET_AGE: Duration = Duration::from_secs(60);

/// How long one call may take before it counts as a failure (the caller then reads from the
/// database): longer than Redis ever needs, shorter than a database read is worth waiting.
const TIMEOUT: Duration = Duration::from_millis(100);

/// The shared read cache in Redis.
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    lookup: Script,
    fill: Script,
    forget: Script,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection's URL may carry a password: never shown.
        f.write_str("RedisCache")
    }
}

fn generation_key(key: &str) -> String {
    format!("coffre:cache:generation:{key}")
}

fn entry_key(key: &str) -> String {
    format!("coffre:cache:entry:{key}")
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl RedisCache {
    /// Connects (and keeps reconnecting) to the Redis at `url`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(RedisCache {
            connection: crate::connect(url).await?,
            lookup: Script::new(LOOKUP),
            fill: Script::new(FILL),
            forget: Script::new(FORGET),
        })
    }

    /// Runs `invocation`, within [`TIMEOUT`].
    async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: ScriptInvocation<'_>,
    ) -> anyhow::Result<T> {
        let mut connection = self.connection.clone();
        crate::within(TIMEOUT, invocation.invoke_async(&mut connection)).await
    }

    /// Invokes `script` on the epoch, generation and entry keys of `key`.
    fn on_key<'a>(script: &'a Script, key: &str) -> ScriptInvocation<'a> {
        let mut invocation = script.key(EPOCH);
        invocation.key(generation_key(key)).key(entry_key(key));
        invocation
    }

    async fn find(&self, key: &str) -> anyhow::Result<Lookup> {
        let mut invocation = Self::on_key(&self.lookup, key);
        invocation.arg(Uuid::new_v4().to_string());
        let (hit, payload): (i64, Vec<u8>) = self.invoke(invocation).await?;
        if hit == 1 {
            return Ok(Lookup::Hit(payload));
        }
        Ok(Lookup::Miss(FillTicket(String::from_utf8(payload)?)))
    }

    async fn store(&self, fill: Fill<'_>) -> anyhow::Result<()> {
        let mut invocation = Self::on_key(&self.fill, fill.key);
        invocation
            .arg(&fill.ticket.0)
            .arg(fill.value)
            .arg(millis(fill.ttl).max(1))
            .arg(millis(fill.max_ticket_age.min(MAX_TICKET_AGE)));
        let _stored: i64 = self.invoke(invocation).await?;
        Ok(())
    }

    async fn drop_keys(&self, keys: &[String]) -> anyhow::Result<()> {
        let mut invocation = self.forget.prepare_invoke();
        for key in keys {
            invocation.key(generation_key(key)).key(entry_key(key));
        }
        invocation.arg(millis(GENERATION_LIFETIME));
        let _forgotten: i64 = self.invoke(invocation).await?;
        Ok(())
    }

    async fn new_epoch(&self) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let mut set = redis::cmd("SET");
        set.arg(EPOCH).arg(Uuid::new_v4().to_string());
        crate::within(TIMEOUT, set.exec_async(&mut connection)).await
    }
}

impl SharedCache for RedisCache {
    fn lookup<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<Lookup>> {
        Box::pin(self.find(key))
    }

    fn fill<'a>(&'a self, fill: Fill<'a>) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.store(fill))
    }

    fn forget<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.drop_keys(keys))
    }

    fn forget_all(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.new_epoch())
    }
}
