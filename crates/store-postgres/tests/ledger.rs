//! The PostgreSQL transaction engine on a throwaway server: money movements, refusals,
//! idempotent replays, the event chain, and concurrent transfers that must neither deadlock
//! nor lose money.

use anyhow::{Context, bail, ensure};
use coffre_app::group_commit::{GroupCommit, GroupCommitConfig};
use coffre_app::ports::{
    AccountStore, AuditLog, CustomerStore, EventFilter, IdempotencyClaim, Ledger, LedgerBatch,
    LedgerOutcome, StoreError, StoredResponse,
};
use coffre_domain::events::{Actor, GENESIS_HASH, verify_chain};
use coffre_domain::ledger::{LedgerCommand, LedgerError, LedgerPolicy, LedgerRequest};
use coffre_domain::{Account, AccountId, AccountStatus, AccountType, Currency, Customer, Money};
use coffre_store_postgres::PostgresStore;
use coffre_store_tests::contract::fixtures;
use uuid::Uuid;

/// A migrated store on a new database, with one customer and `accounts` active EUR accounts.
async fn store_with_accounts(accounts: usize) -> anyhow::Result<(PostgresStore, Vec<AccountId>)> {
    let url = coffre_store_tests::fresh_database_url().await?;
    let store = PostgresStore::connect(&url).await?;
    store.migrate().await?;
    let customer = fixtures::customer("Ada", "Lovelace")?;
    store
        .insert_customer(
            &customer,
            &fixtures::customer_user(&customer)?,
            Actor::System,
        )
        .await?;
    let mut ids = Vec::new();
    for _ in 0..accounts {
        let account = fixtures::account(customer.id, AccountType::Courant, AccountStatus::Active)?;
        let inserted = store
            .insert_account(customer.id, Actor::System, move |_: &Customer| {
                Ok::<Account, StoreError>(account)
            })
            .await?;
        ids.push(inserted.id);
    }
    Ok((store, ids))
}

fn eur(minor: i64) -> anyhow::Result<Money> {
    Ok(Money::from_minor(minor, Currency::EUR)?)
}

fn batch(requests: Vec<LedgerRequest>) -> LedgerBatch {
    LedgerBatch {
        commands: requests
            .into_iter()
            .map(|request| LedgerCommand {
                id: Uuid::now_v7(),
                request,
            })
            .collect(),
        atomic: false,
        actor: Actor::System,
        now: fixtures::now(),
        policy: LedgerPolicy::default(),
        idempotency: None,
    }
}

fn deposit(account: AccountId, minor: i64) -> anyhow::Result<LedgerRequest> {
    Ok(LedgerRequest::Deposit {
        account,
        amount: eur(minor)?,
        label: None,
    })
}

fn transfer(
    source: AccountId,
    destination: AccountId,
    minor: i64,
) -> anyhow::Result<LedgerRequest> {
    Ok(LedgerRequest::Transfer {
        source,
        destination,
        amount: eur(minor)?,
        label: Some("rent".to_owned()),
        counterparty_iban: None,
    })
}

/// A node's way to the engine: its group commit queue, with the default settings.
fn node(store: &PostgresStore) -> GroupCommit<PostgresStore> {
    GroupCommit::new(store.clone(), GroupCommitConfig::default())
}

/// Runs a batch that must execute, through a new node's group commit queue, and returns each
/// command's refusal, if any.
async fn run(
    store: &PostgresStore,
    batch: LedgerBatch,
) -> anyhow::Result<Vec<Option<LedgerError>>> {
    run_on(&node(store), batch).await
}

/// Runs a batch that must execute on `node`, and returns each command's refusal, if any.
async fn run_on(
    node: &GroupCommit<PostgresStore>,
    batch: LedgerBatch,
) -> anyhow::Result<Vec<Option<LedgerError>>> {
    match node.execute(batch).await? {
        LedgerOutcome::Executed { results, .. } => {
            Ok(results.into_iter().map(Result::err).collect())
        }
        other => bail!("expected an execution, got {other:?}"),
    }
}

/// Checks that every currency sums to zero over customer and internal accounts.
async fn check_balanced(store: &PostgresStore) -> anyhow::Result<()> {
    for totals in store.trial_balance().await? {
        let internal: i64 = totals.internal_accounts.iter().map(|(_, b)| b).sum();
        ensure!(
            totals.customer_accounts_minor + internal == 0,
            "{:?} does not balance: {totals:?}",
            totals.currency
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_and_transfers_move_money_and_refusals_change_nothing() -> anyhow::Result<()> {
    let (store, ids) = store_with_accounts(2).await?;
    let (a, b) = (ids[0], ids[1]);
    ensure!(run(&store, batch(vec![deposit(a, 10_000)?])).await? == [None]);
    ensure!(run(&store, batch(vec![transfer(a, b, 2_500)?])).await? == [None]);
    let refused = run(&store, batch(vec![transfer(b, a, 2_501)?])).await?;
    ensure!(
        refused == [Some(LedgerError::InsufficientFunds)],
        "{refused:?}"
    );
    ensure!(store.get_account(a).await?.balance_minor == 7_500);
    ensure!(store.get_account(b).await?.balance_minor == 2_500);
    let lines = store
        .statement_lines(b, &Default::default(), None, 10)
        .await?;
    ensure!(
        lines.len() == 1 && lines[0].balance_after_minor == 2_500,
        "{lines:?}"
    );
    let listed = store
        .list_transactions(&Default::default(), None, 10)
        .await?;
    ensure!(listed.len() == 2 && listed.iter().all(|t| t.is_balanced()));
    let fetched = store.get_transaction(listed[0].id).await?;
    ensure!(fetched == listed[0]);
    check_balanced(&store).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_atomic_batch_with_a_refusal_writes_nothing() -> anyhow::Result<()> {
    let (store, ids) = store_with_accounts(2).await?;
    let (a, b) = (ids[0], ids[1]);
    let mut atomic = batch(vec![deposit(a, 1_000)?, transfer(b, a, 1)?]);
    atomic.atomic = true;
    let results = run(&store, atomic).await?;
    ensure!(
        results[1] == Some(LedgerError::InsufficientFunds),
        "{results:?}"
    );
    ensure!(store.get_account(a).await?.balance_minor == 0);
    ensure!(
        store
            .list_transactions(&Default::default(), None, 10)
            .await?
            .is_empty()
    );
    Ok(())
}

fn claim(key: &str, fingerprint: &str) -> IdempotencyClaim {
    IdempotencyClaim {
        scope: "user:test".to_owned(),
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        expires_at: fixtures::now() + time::Duration::hours(24),
        respond: Box::new(|results| StoredResponse {
            status: 201,
            content_type: "application/json".to_owned(),
            body: format!(
                "{{\"accepted\":{}}}",
                results.iter().filter(|r| r.is_ok()).count()
            )
            .into_bytes(),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_request_is_replayed_and_its_key_cannot_be_reused() -> anyhow::Result<()> {
    let (store, ids) = store_with_accounts(1).await?;
    let mut first = batch(vec![deposit(ids[0], 500)?]);
    first.idempotency = Some(claim("k1", "f1"));
    let LedgerOutcome::Executed {
        response: Some(stored),
        ..
    } = node(&store).execute(first).await?
    else {
        bail!("the first request did not execute with a response");
    };
    let mut again = batch(vec![deposit(ids[0], 500)?]);
    again.idempotency = Some(claim("k1", "f1"));
    match node(&store).execute(again).await? {
        LedgerOutcome::Replayed(replayed) => ensure!(replayed == stored),
        other => bail!("expected a replay, got {other:?}"),
    }
    let mut other = batch(vec![deposit(ids[0], 700)?]);
    other.idempotency = Some(claim("k1", "f2"));
    ensure!(matches!(
        node(&store).execute(other).await?,
        LedgerOutcome::KeyReused
    ));
    ensure!(store.get_account(ids[0]).await?.balance_minor == 500);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transfers_neither_deadlock_nor_lose_money() -> anyhow::Result<()> {
    let (store, ids) = store_with_accounts(5).await?;
    for id in &ids {
        ensure!(run(&store, batch(vec![deposit(*id, 100_000)?])).await? == [None]);
    }
    // Two nodes, each coalescing its requests, on one database.
    let nodes = [node(&store), node(&store)];
    let mut tasks = Vec::new();
    for task in 0..16usize {
        let node = nodes[task % 2].clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..10usize {
                let source = ids[(task + round) % ids.len()];
                let destination = ids[(task * 3 + round + 1) % ids.len()];
                if source == destination {
                    continue;
                }
                // Two transfers in opposite directions in one batch: every lock order is tried.
                let requests = vec![
                    transfer(source, destination, 100 + i64::try_from(round)?)?,
                    transfer(destination, source, 50)?,
                ];
                let results = run_on(&node, batch(requests)).await?;
                ensure!(results.iter().all(Option::is_none), "{results:?}");
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("a transfer task panicked")??;
    }
    let mut total = 0;
    for id in &ids {
        total += store.get_account(*id).await?.balance_minor;
    }
    ensure!(total == 500_000, "the accounts hold {total}");
    check_balanced(&store).await?;
    check_chain(&store).await
}

/// Reads the whole log and verifies its hash chain up to the live state's last sequence.
async fn check_chain(store: &PostgresStore) -> anyhow::Result<()> {
    let records = store.events(&EventFilter::default(), 0, 100_000).await?;
    let (_, next) = verify_chain(GENESIS_HASH, 1, &records)
        .map_err(|broken| anyhow::anyhow!("the chain breaks at {}", broken.sequence))?;
    let live = store.live_state().await?;
    ensure!(
        live.last_sequence == next - 1,
        "{} vs {}",
        live.last_sequence,
        next - 1
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_chained_in_the_event_log() -> anyhow::Result<()> {
    let (store, ids) = store_with_accounts(2).await?;
    run(
        &store,
        batch(vec![deposit(ids[0], 1_000)?, transfer(ids[0], ids[1], 10)?]),
    )
    .await?;
    store
        .update_account(ids[1], Actor::System, |account: &mut Account| {
            account.nickname = None;
            account.version += 1;
            Ok::<(), StoreError>(())
        })
        .await?;
    let types: Vec<String> = store
        .events(&EventFilter::default(), 0, 100)
        .await?
        .into_iter()
        .map(|record| record.event_type)
        .collect();
    ensure!(
        types
            == [
                "CustomerRegistered",
                "AccountCreated",
                "AccountCreated",
                "TransactionCompleted",
                "TransactionCompleted",
                "AccountSettingsChanged",
            ],
        "{types:?}"
    );
    check_chain(&store).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_key_book_once() -> anyhow::Result<()> {
    let (store, ids) = store_with_accounts(1).await?;
    let account = ids[0];
    // Two nodes, four requests each: on a node the second request waits for the next group;
    // across nodes the database's unique key decides.
    let nodes = [node(&store), node(&store)];
    let mut tasks = Vec::new();
    for task in 0..8 {
        let node = nodes[task % 2].clone();
        let mut keyed = batch(vec![deposit(account, 300)?]);
        keyed.idempotency = Some(claim("same", "f"));
        tasks.push(tokio::spawn(async move { node.execute(keyed).await }));
    }
    let mut executed = 0;
    for task in tasks {
        match task.await.context("a keyed task panicked")? {
            Ok(LedgerOutcome::Executed { .. }) => executed += 1,
            Ok(LedgerOutcome::Replayed(_))
            | Err(StoreError::Conflict(coffre_app::ports::ConflictKind::IdempotencyKey)) => {}
            other => bail!("unexpected outcome {other:?}"),
        }
    }
    ensure!(executed == 1, "{executed} executions");
    ensure!(store.get_account(account).await?.balance_minor == 300);
    check_balanced(&store).await
}
