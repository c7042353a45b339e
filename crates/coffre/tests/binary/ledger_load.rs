//! The ledger under load, against the real binary on PostgreSQL: 32 concurrent clients make
//! random transfers among 20 accounts (one of them hot) while other clients read balances.
//! Meanwhile, and afterwards, the event log must verify and replay to the live balances
//! (`coffre audit verify`, `coffre audit rebuild --check`); afterwards the books must be exact.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use serde_json::json;

use crate::support::{Api, Random, STAFF_PASSWORD, Site, funded_accounts, ledger_facts};

const ACCOUNTS: usize = 20;
const WRITERS: usize = 32;
const READERS: usize = 4;
const TRANSFERS_PER_WRITER: usize = 20;
/// Every account starts with 1 000.00 EUR.
const DEPOSIT_MINOR: i64 = 100_000;

/// What one writer saw: the transaction ids it was given, and every status.
struct WriterLog {
    created: Vec<String>,
    statuses: Vec<u16>,
}

async fn writer(api: Api, accounts: Arc<Vec<String>>, seed: u64) -> anyhow::Result<WriterLog> {
    let mut random = Random::new(seed);
    let mut log = WriterLog {
        created: Vec::new(),
        statuses: Vec::new(),
    };
    for n in 0..TRANSFERS_PER_WRITER {
        // Half of the transfers touch account 0, the hot account.
        let mut source = random.below(ACCOUNTS);
        let mut destination = random.below(ACCOUNTS);
        if random.below(2) == 0 {
            if random.below(2) == 0 {
                source = 0;
            } else {
                destination = 0;
            }
        }
        if source == destination {
            destination = (destination + 1) % ACCOUNTS;
        }
        let cents = 1 + random.below(5_000);
        let body = json!({
            "type": "TRANSFER",
            "source_account_id": accounts.get(source).context("source")?,
            "destination_account_id": accounts.get(destination).context("destination")?,
            "amount": {"amount": format!("{}.{:02}", cents / 100, cents % 100), "currency": "EUR"},
        });
        let key = format!("load-{seed}-{n}");
        let (status, _, answer) = api.post("/v1/transactions", &body, Some(&key)).await?;
        log.statuses.push(status);
        if status == 201 {
            log.created
                .push(answer["id"].as_str().context("transaction id")?.to_owned());
        } else {
            anyhow::ensure!(
                status == 422 && answer["code"] == "insufficient_funds",
                "unexpected answer {status}: {answer}"
            );
        }
    }
    Ok(log)
}

/// Runs `coffre audit verify` and `coffre audit rebuild --check` over and over while the load
/// runs: both must pass on a busy database, not only a quiet one.
async fn auditor(site: Site, done: Arc<AtomicBool>) -> anyhow::Result<usize> {
    let mut runs = 0;
    while !done.load(Ordering::Relaxed) {
        for command in [
            &["audit", "verify"][..],
            &["audit", "rebuild", "--check"][..],
        ] {
            let site = site.clone();
            let (passed, out, err) =
                tokio::task::spawn_blocking(move || site.run(command)).await??;
            anyhow::ensure!(passed, "{command:?} failed under load: {out} {err}");
        }
        runs += 1;
    }
    Ok(runs)
}

async fn reader(
    api: Api,
    accounts: Arc<Vec<String>>,
    done: Arc<AtomicBool>,
) -> anyhow::Result<usize> {
    let mut reads = 0;
    let mut random = Random::new(7);
    while !done.load(Ordering::Relaxed) {
        let id = accounts.get(random.below(ACCOUNTS)).context("account")?;
        let (status, _) = api.get(&format!("/v1/accounts/{id}/balance")).await?;
        anyhow::ensure!(status == 200, "balance read answered {status}");
        reads += 1;
    }
    Ok(reads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transfers_on_postgres_keep_the_books_exact() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let site = Site {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(coffre_store_tests::fresh_database_url().await?),
    };
    let (migrated, _, stderr) = site.run(&["migrate"])?;
    anyhow::ensure!(migrated, "migrate failed: {stderr}");
    site.create_user("teller", "teller")?;
    let server = site.serve()?;
    let teller = Api::login(&server.url, "teller", STAFF_PASSWORD).await?;
    let accounts =
        Arc::new(funded_accounts(&teller, "load@example.org", ACCOUNTS, "1000.00").await?);

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let api = teller.fresh_client(&server.url);
            tokio::spawn(reader(api, accounts.clone(), done.clone()))
        })
        .collect();
    let audits = tokio::spawn(auditor(site.clone(), done.clone()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            let api = teller.fresh_client(&server.url);
            tokio::spawn(writer(api, accounts.clone(), n as u64))
        })
        .collect();
    let mut created = Vec::new();
    let mut statuses = Vec::new();
    for handle in writers {
        let log = handle.await??;
        created.extend(log.created);
        statuses.extend(log.statuses);
    }
    done.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for handle in readers {
        reads += handle.await??;
    }
    assert!(reads > 0, "the readers never read");
    assert!(audits.await?? > 0, "the auditor never ran");
    assert_eq!(statuses.len(), WRITERS * TRANSFERS_PER_WRITER);
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 422),
        "{statuses:?}"
    );

    // No transfer applied twice, none lost: one transaction row per 201, each id distinct.
    let distinct: BTreeSet<&String> = created.iter().collect();
    assert_eq!(distinct.len(), created.len());
    let (balances, transfers) = ledger_facts(&site, "TRANSFER").await?;
    assert_eq!(usize::try_from(transfers)?, created.len());
    // Money only moved between the accounts: the total is what was deposited.
    let total: i64 = balances.iter().map(|(balance, _)| balance).sum();
    assert_eq!(total, DEPOSIT_MINOR * i64::try_from(ACCOUNTS)?);
    for (balance, postings) in &balances {
        assert_eq!(
            balance, postings,
            "a balance differs from the sum of its postings"
        );
    }

    // The log is intact and replays to exactly the live balances and statuses.
    let (verified, out, err) = site.run(&["audit", "verify"])?;
    assert!(verified, "audit verify failed: {out} {err}");
    let (rebuilt, out, err) = site.run(&["audit", "rebuild", "--check"])?;
    assert!(rebuilt, "audit rebuild --check failed: {out} {err}");
    server.kill()?;
    Ok(())
}
