//! The shared read cache against a real Redis: what a fill may store, and what a forget turns
//! away. Each test starts its own server.

use std::time::Duration;

use coffre_app::ports::{Fill, FillTicket, Lookup, SharedCache};
use coffre_redis::RedisCache;
use coffre_store_tests::redis_server::RedisServer;

const KEY: &str = "account:v1:7d0c5f52-0000-7000-8000-000000000001";
const TTL: Duration = Duration::from_secs(2);

async fn cache() -> anyhow::Result<(RedisServer, RedisCache)> {
    let server = RedisServer::start()?;
    let cache = RedisCache::connect(&server.url).await?;
    Ok((server, cache))
}

async fn ticket(cache: &RedisCache, key: &str) -> anyhow::Result<FillTicket> {
    match cache.lookup(key).await? {
        Lookup::Miss(ticket) => Ok(ticket),
        Lookup::Hit(value) => anyhow::bail!("expected a miss, found {value:?}"),
    }
}

async fn fill(
    cache: &RedisCache,
    key: &str,
    ticket: &FillTicket,
    value: &str,
) -> anyhow::Result<()> {
    cache
        .fill(Fill {
            key,
            ticket,
            value: value.as_bytes(),
            ttl: TTL,
            max_ticket_age: TTL / 2,
        })
        .await
}

async fn found(cache: &RedisCache, key: &str) -> anyhow::Result<Option<String>> {
    Ok(match cache.lookup(key).await? {
        Lookup::Hit(value) => Some(String::from_utf8(value)?),
        Lookup::Miss(_) => None,
    })
}

#[tokio::test]
async fn a_fill_is_kept_until_its_key_is_forgotten() -> anyhow::Result<()> {
    let (_server, cache) = cache().await?;
    let ticket = ticket(&cache, KEY).await?;
    fill(&cache, KEY, &ticket, "current").await?;
    assert_eq!(found(&cache, KEY).await?.as_deref(), Some("current"));
    cache.forget(&[KEY.to_owned()]).await?;
    assert_eq!(found(&cache, KEY).await?, None);
    Ok(())
}

#[tokio::test]
async fn a_fill_that_raced_a_forget_is_refused() -> anyhow::Result<()> {
    let (_server, cache) = cache().await?;
    let before = ticket(&cache, KEY).await?;
    // A write commits and forgets the key while the read is still loading the old row.
    cache.forget(&[KEY.to_owned()]).await?;
    fill(&cache, KEY, &before, "old").await?;
    assert_eq!(found(&cache, KEY).await?, None);
    // A read that starts after the forget may fill.
    let after = ticket(&cache, KEY).await?;
    fill(&cache, KEY, &after, "new").await?;
    assert_eq!(found(&cache, KEY).await?.as_deref(), Some("new"));
    Ok(())
}

#[tokio::test]
async fn a_forget_reaches_only_its_keys() -> anyhow::Result<()> {
    let (_server, cache) = cache().await?;
    let other = "customer:v1:7d0c5f52-0000-7000-8000-000000000002";
    let mine = ticket(&cache, KEY).await?;
    let theirs = ticket(&cache, other).await?;
    cache.forget(&[KEY.to_owned()]).await?;
    fill(&cache, KEY, &mine, "old").await?;
    fill(&cache, other, &theirs, "kept").await?;
    assert_eq!(found(&cache, KEY).await?, None);
    assert_eq!(found(&cache, other).await?.as_deref(), Some("kept"));
    Ok(())
}

#[tokio::test]
async fn forgetting_everything_hides_every_entry_and_refuses_every_ticket() -> anyhow::Result<()> {
    let (_server, cache) = cache().await?;
    let filled = ticket(&cache, KEY).await?;
    fill(&cache, KEY, &filled, "cached").await?;
    let other = "recent_lines:v1:7d0c5f52-0000-7000-8000-000000000003";
    let in_flight = ticket(&cache, other).await?;
    cache.forget_all().await?;
    assert_eq!(found(&cache, KEY).await?, None);
    fill(&cache, other, &in_flight, "old").await?;
    assert_eq!(found(&cache, other).await?, None);
    Ok(())
}

#[tokio::test]
async fn a_ticket_older_than_its_allowed_age_is_refused() -> anyhow::Result<()> {
    let (_server, cache) = cache().await?;
    let ticket = ticket(&cache, KEY).await?;
    tokio::time::sleep(Duration::from_millis(30)).await;
    cache
        .fill(Fill {
            key: KEY,
            ticket: &ticket,
            value: b"slow",
            ttl: TTL,
            max_ticket_age: Duration::from_millis(10),
        })
        .await?;
    assert_eq!(found(&cache, KEY).await?, None);
    Ok(())
}

#[tokio::test]
async fn an_entry_expires_with_its_ttl() -> anyhow::Result<()> {
    let (_server, cache) = cache().await?;
    let ticket = ticket(&cache, KEY).await?;
    cache
        .fill(Fill {
            key: KEY,
            ticket: &ticket,
            value: b"short-lived",
            ttl: Duration::from_millis(50),
            max_ticket_age: TTL,
        })
        .await?;
    assert_eq!(found(&cache, KEY).await?.as_deref(), Some("short-lived"));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(found(&cache, KEY).await?, None);
    Ok(())
}

#[tokio::test]
async fn tickets_taken_before_redis_lost_its_data_are_refused() -> anyhow::Result<()> {
    let (server, cache) = cache().await?;
    let before = ticket(&cache, KEY).await?;
    cache.forget(&[KEY.to_owned()]).await?;
    // Redis restarts empty (or fails over to a replica that missed the forget): the key's
    // generation is gone, so only the epoch still tells the ticket is from before.
    let flushed = server.command("FLUSHALL")?;
    assert!(flushed.starts_with("+OK"), "{flushed}");
    let fresh = ticket(&cache, KEY).await?;
    assert_ne!(fresh, before);
    fill(&cache, KEY, &before, "old").await?;
    assert_eq!(found(&cache, KEY).await?, None);
    Ok(())
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_a_miss() -> anyhow::Result<()> {
    let (mut server, cache) = cache().await?;
    server.stop()?;
    assert!(cache.lookup(KEY).await.is_err());
    assert!(cache.forget(&[KEY.to_owned()]).await.is_err());
    Ok(())
}
