//! Rate limits across nodes: two `coffre serve` processes on one PostgreSQL and one Redis share
//! each client's allowance, and when Redis stops in the middle, each node limits on its own
//! (fail open to the in-process limiter): nothing answers 500.

use coffre_store_tests::redis_server::RedisServer;

use crate::support::{Api, STAFF_PASSWORD, shared_site};

const LIMIT: &str = "10";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_allowance_and_a_redis_outage_fails_open() -> anyhow::Result<()> {
    let mut redis = RedisServer::start()?;
    let (site, _data_dir) = shared_site(&format!("[redis]\nurl = \"{}\"\n", redis.url)).await?;
    let env = [("COFFRE_RATE_LIMIT_REQUESTS_PER_MINUTE", LIMIT)];
    let node_a = site.serve_with_env(&env)?;
    let node_b = site.serve_with_env(&env)?;

    // One session, used on both nodes: one user, one `read` allowance of 10.
    let on_a = Api::login(&node_a.url, "root", STAFF_PASSWORD).await?;
    let on_b = on_a.fresh_client(&node_b.url);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(on_a.get("/v1/customers").await?.0);
        statuses.push(on_b.get("/v1/customers").await?.0);
    }
    let admitted = statuses.iter().filter(|status| **status == 200).count();
    let refused = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!((admitted, refused), (10, 2), "{statuses:?}");
    let bucket_keys = redis.command("KEYS coffre:rate:*")?;
    assert!(
        // Keyed on the verified user (ADR 0018), the same on both nodes.
        bucket_keys.contains("coffre:rate:read:user:"),
        "{bucket_keys}"
    );

    // Redis goes away: each node limits on its own (a fresh allowance of 10 each), and
    // nothing fails.
    redis.stop()?;
    for api in [&on_a, &on_b] {
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(api.get("/v1/customers").await?.0);
        }
        let admitted = statuses.iter().filter(|status| **status == 200).count();
        let refused = statuses.iter().filter(|status| **status == 429).count();
        assert_eq!((admitted, refused), (10, 2), "{} {statuses:?}", api.base);
    }
    Ok(())
}
