//! The read cache across nodes: two `coffre serve` processes on one PostgreSQL and one Redis
//! keep their read cache in Redis, so that a write through node A is seen by the very next
//! read on node B (with an in-process cache, B would serve its own copy until the TTL ran
//! out). When Redis stops in the middle, reads go to the database: nothing answers 500, and
//! nothing answers an old value.

use anyhow::Context as _;
use coffre_store_tests::redis_server::RedisServer;
use serde_json::{Value, json};

use crate::support::{Api, STAFF_PASSWORD, funded_accounts, shared_site, sign_up};

const ROUNDS: u32 = 200;

/// The statement-lines page size when the client names none.
const DEFAULT_PAGE: usize = 20;

/// `minor` cents as the API writes an EUR amount.
fn euros(minor: u32) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

async fn json_of(api: &Api, path: &str) -> anyhow::Result<Value> {
    let (status, body) = api.get(path).await?;
    anyhow::ensure!(status == 200, "GET {path} on {}: {status} {body}", api.base);
    Ok(body)
}

async fn deposit(teller: &Api, account: &str, key: &str) -> anyhow::Result<()> {
    let (status, _, body) = teller
        .post(
            "/v1/transactions",
            &json!({"type": "DEPOSIT", "destination_account_id": account,
                    "amount": {"amount": "0.01", "currency": "EUR"}}),
            Some(key),
        )
        .await?;
    anyhow::ensure!(status == 201, "deposit on {}: {status} {body}", teller.base);
    Ok(())
}

/// What `api` shows of the account: its balance, its balance endpoint, and its first page of
/// lines, which must all be `cents` with `lines` lines booked.
async fn check_account(api: &Api, account: &str, cents: u32, lines: usize) -> anyhow::Result<()> {
    let expected = json!(euros(cents));
    let shown = json_of(api, &format!("/v1/accounts/{account}")).await?;
    anyhow::ensure!(
        shown["balance"]["current"]["amount"] == expected,
        "account on {} shows {shown}, expected {expected}",
        api.base
    );
    let balance = json_of(api, &format!("/v1/accounts/{account}/balance")).await?;
    anyhow::ensure!(
        balance["current"]["amount"] == expected,
        "balance on {} shows {balance}, expected {expected}",
        api.base
    );
    let page = json_of(api, &format!("/v1/accounts/{account}/transactions")).await?;
    let items = page["items"].as_array().context("items")?;
    anyhow::ensure!(
        items.len() == lines.min(DEFAULT_PAGE)
            && page["next_cursor"].is_null() == (lines <= DEFAULT_PAGE),
        "lines on {} show {page}, expected {lines} lines",
        api.base
    );
    Ok(())
}

/// The value of a counter line of `/metrics` that starts with `series` (0 when absent).
async fn counter(base: &str, series: &str) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|line| line.starts_with(series))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_node_is_read_at_once_on_the_other() -> anyhow::Result<()> {
    let mut redis = RedisServer::start()?;
    let (site, _data_dir) = shared_site(&format!("[redis]\nurl = \"{}\"\n", redis.url)).await?;
    // A TTL far longer than the test: only the shared tier can make B see A's writes.
    let env = [("COFFRE_CACHE_TTL_MS", "600000")];
    let node_a = site.serve_with_env(&env)?;
    let node_b = site.serve_with_env(&env)?;
    let on_a = Api::login(&node_a.url, "root", STAFF_PASSWORD).await?;
    let on_b = on_a.fresh_client(&node_b.url);

    let accounts = funded_accounts(&on_a, "ada@example.org", 1, "1.00").await?;
    let account = accounts.first().context("account")?;
    let mut cents = 100;
    let mut lines = 1;
    for round in 0..ROUNDS {
        // Twice on B: the second read is served from the cache.
        check_account(&on_b, account, cents, lines).await?;
        check_account(&on_b, account, cents, lines).await?;
        deposit(&on_a, account, &format!("round-{round}")).await?;
        cents += 1;
        lines += 1;
        check_account(&on_b, account, cents, lines)
            .await
            .with_context(|| format!("round {round}"))?;
    }
    let hits = counter(
        &node_b.url,
        "coffre_cache_requests_total{cache=\"account\",result=\"hit\"}",
    )
    .await?;
    assert!(
        hits >= f64::from(ROUNDS),
        "B served {hits} account reads from the cache"
    );
    let entries = redis.command("KEYS coffre:cache:entry:account:*")?;
    assert!(entries.contains(account.as_str()), "{entries}");

    kyc_on_one_node_is_read_on_the_other(&on_a, &on_b).await?;

    // Redis goes away: every read goes to the database, on both nodes, and still shows every
    // write at once.
    redis.stop()?;
    for round in 0..20 {
        deposit(&on_a, account, &format!("outage-{round}")).await?;
        cents += 1;
        lines += 1;
        check_account(&on_a, account, cents, lines).await?;
        check_account(&on_b, account, cents, lines).await?;
    }
    let errors = counter(&node_a.url, "coffre_cache_shared_errors_total").await?;
    assert!(errors >= 1.0, "node A counted {errors} shared-cache errors");
    Ok(())
}

/// A customer and their pending account, read (and cached) through B, then verified through
/// A: B shows both changed at once.
async fn kyc_on_one_node_is_read_on_the_other(on_a: &Api, on_b: &Api) -> anyhow::Result<()> {
    let customer_id = sign_up(&on_a.base, "Grace", "grace@example.org").await?;
    let (status, _, opened) = on_a
        .post(
            "/v1/accounts",
            &json!({"customer_id": &customer_id, "type": "COURANT"}),
            None,
        )
        .await?;
    anyhow::ensure!(status == 201, "open account: {status} {opened}");
    let account_id = opened["id"].as_str().context("account id")?;
    for _ in 0..2 {
        let customer = json_of(on_b, &format!("/v1/customers/{customer_id}")).await?;
        assert_eq!(customer["kyc_status"], "PENDING", "{customer}");
        let account = json_of(on_b, &format!("/v1/accounts/{account_id}")).await?;
        assert_eq!(account["status"], "PENDING_KYC", "{account}");
    }
    let (status, _, decided) = on_a
        .post(
            &format!("/v1/customers/{customer_id}/kyc"),
            &json!({"decision": "VERIFIED"}),
            None,
        )
        .await?;
    anyhow::ensure!(status == 200, "kyc: {status} {decided}");
    let customer = json_of(on_b, &format!("/v1/customers/{customer_id}")).await?;
    assert_eq!(customer["kyc_status"], "VERIFIED", "{customer}");
    let account = json_of(on_b, &format!("/v1/accounts/{account_id}")).await?;
    assert_eq!(account["status"], "ACTIVE", "{account}");
    Ok(())
}

/// A forget that fails (here Redis refuses it: the node's Redis user may not `INCR` nor `DEL`)
/// leaves the old entry in Redis. The node that wrote must not read it back: after the error
/// it reads from the database until that entry is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_forget_failed_does_not_read_its_write_undone() -> anyhow::Result<()> {
    let redis = RedisServer::start()?;
    let refused = redis.command("ACL SETUSER coffre on >cache-test ~* &* +@all -incr -del")?;
    assert!(refused.starts_with("+OK"), "{refused}");
    let url = redis.url.replace("redis://", "redis://coffre:cache-test@");
    let (site, _data_dir) = shared_site(&format!("[redis]\nurl = \"{url}\"\n")).await?;
    let node = site.serve_with_env(&[("COFFRE_CACHE_TTL_MS", "600000")])?;
    let teller = Api::login(&node.url, "root", STAFF_PASSWORD).await?;
    let accounts = funded_accounts(&teller, "ada@example.org", 1, "1.00").await?;
    let account = accounts.first().context("account")?;
    // Every write so far failed to forget (the setup's deposit among them). Were the node to
    // go on using Redis, this first check would fill it, and the second would read the old
    // balance back.
    check_account(&teller, account, 100, 1).await?;
    deposit(&teller, account, "after-the-fill").await?;
    check_account(&teller, account, 101, 2).await?;
    let errors = counter(
        &node.url,
        "coffre_cache_shared_errors_total{operation=\"forget\"}",
    )
    .await?;
    assert!(errors >= 2.0, "node counted {errors} refused forgets");
    let entries = redis.command("KEYS coffre:cache:entry:*")?;
    assert!(
        !entries.contains(account.as_str()),
        "the node filled Redis while it could not forget: {entries}"
    );
    Ok(())
}
