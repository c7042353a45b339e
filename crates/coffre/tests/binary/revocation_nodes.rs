//! Revocation across nodes: two `coffre serve` processes share one PostgreSQL, one key
//! directory and one Redis. A token revoked through node A is refused by node B on its next
//! request, and the revocation lives in Redis (with the token's remaining life), not in the
//! database.

use anyhow::Context as _;
use coffre_store_tests::redis_server::RedisServer;
use serde_json::Value;

use crate::support::{STAFF_PASSWORD, audit_status, json_line, shared_site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_one_node_is_refused_by_the_other() -> anyhow::Result<()> {
    let redis = RedisServer::start()?;
    // Both nodes: one public URL (the load balancer's, hence one token issuer) and one Redis.
    let (site, _data_dir) = shared_site(&format!(
        "public_url = \"http://coffre.test\"\n[redis]\nurl = \"{}\"\n",
        redis.url
    ))
    .await?;
    let (ok, out, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Back office",
        "--type",
        "confidential",
        "--grant",
        "password",
        "--scope",
        "audit:read",
        "--first-party",
    ])?;
    assert!(ok, "{err}");
    let client = json_line(&out)?;
    let client_id = client["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned();
    let secret = client["client_secret"].as_str().map(str::to_owned);

    let node_a = site.serve()?;
    let node_b = site.serve()?;
    let token: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", node_a.url))
        .basic_auth(&client_id, secret.as_deref())
        .form(&[
            ("grant_type", "password"),
            ("username", "root"),
            ("password", STAFF_PASSWORD),
        ])
        .send()
        .await?
        .json()
        .await?;
    let access = token["access_token"].as_str().context("access_token")?;
    assert_eq!(audit_status(&node_b.url, access).await?, 200);

    let revoked = reqwest::Client::new()
        .post(format!("{}/oauth/revoke", node_a.url))
        .basic_auth(&client_id, secret.as_deref())
        .form(&[("token", access)])
        .send()
        .await?;
    assert_eq!(revoked.status(), 200);
    assert_eq!(audit_status(&node_b.url, access).await?, 401);
    assert_eq!(audit_status(&node_a.url, access).await?, 401);

    // The entry is in Redis and expires with the token (15 minutes at most)...
    let keys = redis.command("KEYS coffre:revoked:*")?;
    assert!(
        keys.starts_with("*1"),
        "one revoked token in Redis: {keys:?}"
    );
    let key = keys
        .lines()
        .find(|line| line.starts_with("coffre:revoked:"))
        .context("the key")?;
    let ttl = redis.command(&format!("TTL {key}"))?;
    let ttl: i64 = ttl.trim().trim_start_matches(':').parse()?;
    assert!((1..=901).contains(&ttl), "TTL {ttl}");
    // ...and not in the database: Redis is what the nodes share.
    let url = site.database_url.clone().context("database url")?;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await?;
    let in_database: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revoked_access_tokens")
        .fetch_one(&mut conn)
        .await?;
    assert_eq!(in_database, 0);
    node_a.kill()?;
    node_b.kill()?;
    Ok(())
}
