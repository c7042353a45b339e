//! One hot account under 64 concurrent clients, on both engines, against the real binary: every
//! transfer credits the same account (a merchant, a payroll account) while its sources run dry.
//! Afterwards every invariant must hold: no transfer lost or applied twice, no source past its
//! overdraft limit, money conserved, every balance equal to its postings, the event log intact.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;

use crate::support::{Api, STAFF_PASSWORD, Site, funded_accounts, ledger_facts};

const CLIENTS: usize = 64;
const SOURCES: usize = 16;
const TRANSFERS_PER_CLIENT: usize = 10;
/// Each account starts with 10.00 EUR; each transfer moves 1.00 EUR.
const DEPOSIT: &str = "10.00";
const DEPOSIT_MINOR: i64 = 1_000;
const TRANSFER_MINOR: i64 = 100;

/// Client `n` sends its transfers from source `n % SOURCES` to the hot account; the statuses.
async fn client(api: Api, hot: String, source: String, n: usize) -> anyhow::Result<Vec<u16>> {
    let mut statuses = Vec::with_capacity(TRANSFERS_PER_CLIENT);
    for k in 0..TRANSFERS_PER_CLIENT {
        let body = json!({"type": "TRANSFER", "source_account_id": source,
            "destination_account_id": hot, "amount": {"amount": "1.00", "currency": "EUR"}});
        let (status, _, answer) = api
            .post("/v1/transactions", &body, Some(&format!("hot-{n}-{k}")))
            .await?;
        anyhow::ensure!(
            status == 201 || (status == 422 && answer["code"] == "insufficient_funds"),
            "unexpected answer {status}: {answer}"
        );
        statuses.push(status);
    }
    Ok(statuses)
}

/// The overdraft limit of an account, in minor units.
async fn overdraft_minor(api: &Api, id: &str) -> anyhow::Result<i64> {
    let (status, account) = api.get(&format!("/v1/accounts/{id}")).await?;
    anyhow::ensure!(status == 200, "account: {status}");
    minor(
        account["overdraft_limit"]["amount"]
            .as_str()
            .context("overdraft_limit")?,
    )
}

/// The current balance of an account, in minor units.
async fn balance_minor(api: &Api, id: &str) -> anyhow::Result<i64> {
    let (status, balance) = api.get(&format!("/v1/accounts/{id}/balance")).await?;
    anyhow::ensure!(status == 200, "balance: {status}");
    minor(balance["current"]["amount"].as_str().context("current")?)
}

/// A decimal amount of a two-decimal currency (`"-12.50"`), in minor units.
fn minor(amount: &str) -> anyhow::Result<i64> {
    let (units, cents) = amount
        .trim_start_matches('-')
        .split_once('.')
        .context("a decimal amount")?;
    let minor = units.parse::<i64>()? * 100 + cents.parse::<i64>()?;
    Ok(if amount.starts_with('-') {
        -minor
    } else {
        minor
    })
}

async fn hammer_one_hot_account(site: Site) -> anyhow::Result<()> {
    site.create_user("teller", "teller")?;
    let server = site.serve()?;
    let teller = Api::login(&server.url, "teller", STAFF_PASSWORD).await?;
    let accounts = funded_accounts(&teller, "hot@example.org", SOURCES + 1, DEPOSIT).await?;
    let (hot, sources) = accounts.split_first().context("accounts")?;
    let sources = Arc::new(sources.to_vec());

    let handles: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let api = teller.fresh_client(&server.url);
            let source = sources.get(n % SOURCES).cloned().unwrap_or_default();
            tokio::spawn(client(api, hot.clone(), source, n))
        })
        .collect();
    let mut booked = 0i64;
    for handle in handles {
        booked += i64::try_from(handle.await??.iter().filter(|s| **s == 201).count())?;
    }

    // Each 201 is one transfer row, and the hot account holds exactly what they moved.
    let (balances, transfers) = ledger_facts(&site, "TRANSFER").await?;
    assert_eq!(transfers, booked);
    assert_eq!(
        balance_minor(&teller, hot).await?,
        DEPOSIT_MINOR + booked * TRANSFER_MINOR
    );
    // No source went past its overdraft limit, and each was drained as far as it allowed.
    for source in sources.iter() {
        let minor = balance_minor(&teller, source).await?;
        let floor = -overdraft_minor(&teller, source).await?;
        assert!(minor >= floor, "{source} at {minor}, below {floor}");
        assert!(
            minor - TRANSFER_MINOR < floor,
            "{source} could still pay: {minor}"
        );
    }
    // Money moved only between the accounts, and every balance is the sum of its postings.
    let total: i64 = balances.iter().map(|(balance, _)| balance).sum();
    assert_eq!(total, DEPOSIT_MINOR * i64::try_from(SOURCES + 1)?);
    assert!(
        balances
            .iter()
            .all(|(balance, postings)| balance == postings)
    );
    let (verified, out, err) = site.run(&["audit", "verify"])?;
    assert!(verified, "audit verify: {out} {err}");
    let (rebuilt, out, err) = site.run(&["audit", "rebuild", "--check"])?;
    assert!(rebuilt, "audit rebuild --check: {out} {err}");
    server.kill()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_on_one_hot_account_keep_every_invariant_on_sqlite() -> anyhow::Result<()>
{
    let data_dir = tempfile::tempdir()?;
    hammer_one_hot_account(Site {
        data_dir: data_dir.path().to_owned(),
        database_url: None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_on_one_hot_account_keep_every_invariant_on_postgres()
-> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    hammer_one_hot_account(Site {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(coffre_store_tests::fresh_database_url().await?),
    })
    .await
}
