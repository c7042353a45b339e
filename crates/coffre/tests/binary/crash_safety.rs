//! Crash safety, with the real binary, on both engines: the server is killed with SIGKILL in
//! the middle of a load of keyed transfers, restarted, and every client retries what it was not
//! sure of with the same key. No acknowledged transfer may be lost and none may be applied twice.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::support::{Api, STAFF_PASSWORD, Site, funded_accounts, ledger_facts};

const ACCOUNTS: usize = 6;
const CLIENTS: usize = 8;
const TRANSFERS_PER_CLIENT: usize = 200;

/// The transfers a client sends, each with its own key.
fn planned(client: usize, accounts: &[String]) -> anyhow::Result<Vec<(String, Value)>> {
    (0..TRANSFERS_PER_CLIENT)
        .map(|n| {
            let source = accounts.get((client + n) % ACCOUNTS).context("source")?;
            let destination = accounts
                .get((client + n + 1) % ACCOUNTS)
                .context("destination")?;
            let body = json!({
                "type": "TRANSFER", "source_account_id": source, "destination_account_id": destination,
                "amount": {"amount": "1.00", "currency": "EUR"},
            });
            Ok((format!("crash-{client}-{n}"), body))
        })
        .collect()
}

/// Sends the plan in order until the server stops answering; returns the acknowledged
/// (key, transaction id) pairs.
async fn send_until_failure(api: Api, plan: Vec<(String, Value)>) -> Vec<(String, String)> {
    let mut acknowledged = Vec::new();
    for (key, body) in plan {
        match api.post("/v1/transactions", &body, Some(&key)).await {
            Ok((201, _, answer)) => {
                acknowledged.push((key, answer["id"].as_str().unwrap_or_default().to_owned()));
            }
            _ => break,
        }
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_on_sqlite_loses_and_duplicates_no_keyed_transfer() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    crash_and_retry(Site {
        data_dir: data_dir.path().to_owned(),
        database_url: None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_on_postgresql_loses_and_duplicates_no_keyed_transfer() -> anyhow::Result<()>
{
    let data_dir = tempfile::tempdir()?;
    crash_and_retry(Site {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(coffre_store_tests::fresh_database_url().await?),
    })
    .await
}

/// Loads the site's server with keyed transfers, kills it, restarts it, retries every key, and
/// checks the books.
async fn crash_and_retry(site: Site) -> anyhow::Result<()> {
    site.create_user("teller", "teller")?;
    let server = site.serve()?;
    let teller = Api::login(&server.url, "teller", STAFF_PASSWORD).await?;
    let accounts =
        Arc::new(funded_accounts(&teller, "crash@example.org", ACCOUNTS, "5000.00").await?);
    let plans: Vec<Vec<(String, Value)>> = (0..CLIENTS)
        .map(|client| planned(client, &accounts))
        .collect::<anyhow::Result<_>>()?;

    let senders: Vec<_> = plans
        .iter()
        .map(|plan| {
            tokio::spawn(send_until_failure(
                teller.fresh_client(&server.url),
                plan.clone(),
            ))
        })
        .collect();
    // Let the load run, then pull the plug.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    server.kill()?;
    let mut acknowledged = Vec::new();
    for handle in senders {
        acknowledged.push(handle.await?);
    }
    let acknowledged_total: usize = acknowledged.iter().map(Vec::len).sum();
    assert!(
        acknowledged_total > 0,
        "nothing was acknowledged before the kill"
    );
    assert!(
        acknowledged_total < CLIENTS * TRANSFERS_PER_CLIENT,
        "the load finished before the kill: the test proved nothing"
    );

    // Restart on the same data; the session survived (it is in the database).
    let server = site.serve()?;
    let api = teller.fresh_client(&server.url);
    for (plan, acked) in plans.iter().zip(&acknowledged) {
        for (index, (key, body)) in plan.iter().enumerate() {
            let (status, replayed, answer) = api.post("/v1/transactions", body, Some(key)).await?;
            assert_eq!(status, 201, "retry of {key}: {answer}");
            if let Some((_, first_id)) = acked.get(index) {
                // Acknowledged before the crash: a replay of that very transaction.
                assert!(replayed, "{key} was acknowledged but not replayed");
                assert_eq!(answer["id"].as_str(), Some(first_id.as_str()));
            }
        }
    }

    // Every key moved money exactly once.
    let (balances, transfers) = ledger_facts(&site, "TRANSFER").await?;
    assert_eq!(usize::try_from(transfers)?, CLIENTS * TRANSFERS_PER_CLIENT);
    let total: i64 = balances.iter().map(|(balance, _)| balance).sum();
    assert_eq!(total, 500_000 * i64::try_from(ACCOUNTS)?);
    for (balance, postings) in &balances {
        assert_eq!(balance, postings);
    }
    let (verified, out, err) = site.run(&["audit", "verify"])?;
    assert!(verified, "audit verify failed after the crash: {out} {err}");
    server.kill()?;
    Ok(())
}
