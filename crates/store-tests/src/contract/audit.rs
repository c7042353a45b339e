//! The event log and the ledger's totals: foundation writes append their events, the chain
//! verifies, the trial balance is zero, and concurrent transfers lose nothing.

use anyhow::Context;
use coffre_app::ports::{AuditLog, EventFilter, Storage, StoreError};
use coffre_domain::events::{GENESIS_HASH, verify_chain};
use coffre_domain::ledger::{LedgerAccount, LedgerRequest};
use coffre_domain::{Account, AccountStatus, AccountType};
use tokio::task::JoinSet;

use super::fixtures::{self, eur, funded_account, run};

/// The event types of a stream, in order.
async fn stream_types<S: AuditLog>(store: &S, stream: uuid::Uuid) -> anyhow::Result<Vec<String>> {
    let filter = EventFilter {
        stream_id: Some(stream),
        event_type: None,
    };
    Ok(store
        .events(&filter, 0, 100)
        .await?
        .into_iter()
        .map(|record| record.event_type)
        .collect())
}

/// Registering a customer, opening, freezing and closing an account append their events, with
/// stream versions from 1.
pub async fn foundation_writes_append_events<S: Storage>(store: &S) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Jeanne", "Journal").await?;
    let account = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::Active,
    )
    .await?;
    store
        .update_account(account.id, fixtures::ACTOR, |account: &mut Account| {
            account.status = AccountStatus::Frozen;
            account.status_reason = Some("fraud check".to_owned());
            account.version += 1;
            Ok::<_, StoreError>(())
        })
        .await?;
    // A closure that does not bump the version writes nothing, and records nothing.
    store
        .update_account(account.id, fixtures::ACTOR, |_: &mut Account| {
            Ok::<_, StoreError>(())
        })
        .await?;
    assert_eq!(
        stream_types(store, customer.id.0).await?,
        ["CustomerRegistered"]
    );
    assert_eq!(
        stream_types(store, account.id.0).await?,
        ["AccountCreated", "AccountFrozen"]
    );
    let frozen = EventFilter {
        stream_id: None,
        event_type: Some("AccountFrozen".to_owned()),
    };
    let records = store.events(&frozen, 0, 10).await?;
    let record = records.first().context("no AccountFrozen event")?;
    assert_eq!(record.stream_version, 2);
    assert_eq!(record.actor, fixtures::ACTOR.as_text());
    Ok(())
}

/// The whole log verifies from the genesis hash, with gap-free sequences, read in pages; the
/// chain head of the live state is the last sequence.
pub async fn the_event_chain_verifies<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 2_000).await?;
    let b = funded_account(store, 0).await?;
    run(
        store,
        LedgerRequest::Transfer {
            source: a.id,
            destination: b.id,
            amount: eur(700)?,
            label: None,
            counterparty_iban: None,
        },
    )
    .await?
    .map_err(|error| anyhow::anyhow!("transfer refused: {error}"))?;
    let mut chain = (GENESIS_HASH, 1);
    let mut after = 0;
    loop {
        let page = store.events(&EventFilter::default(), after, 3).await?;
        let Some(last) = page.last() else { break };
        after = last.sequence;
        chain = verify_chain(chain.0, chain.1, &page)
            .map_err(|broken| anyhow::anyhow!("the chain breaks at {}", broken.sequence))?;
    }
    // Two customers, two accounts, one deposit (the second account starts empty), one
    // transfer.
    assert_eq!(chain.1 - 1, 6);
    assert_eq!(store.live_state().await?.last_sequence, 6);
    let head = store.chain_head().await?;
    assert_eq!(head.last_sequence, 6);
    assert_eq!(
        head.last_hash, chain.0,
        "the head holds the last event's hash"
    );
    Ok(())
}

/// Per currency, customer balances and internal balances sum to zero.
pub async fn the_trial_balance_is_zero<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 9_000).await?;
    run(
        store,
        LedgerRequest::Withdrawal {
            account: a.id,
            amount: eur(1_000)?,
            label: None,
        },
    )
    .await?
    .map_err(|error| anyhow::anyhow!("withdrawal refused: {error}"))?;
    let totals = store.trial_balance().await?;
    assert!(!totals.is_empty());
    for currency in &totals {
        let internal: i64 = currency.internal_accounts.iter().map(|(_, b)| b).sum();
        assert_eq!(
            currency.customer_accounts_minor + internal,
            0,
            "{currency:?}"
        );
    }
    let eur_totals = totals
        .iter()
        .find(|t| t.currency == coffre_domain::Currency::EUR)
        .context("no EUR totals")?;
    assert_eq!(eur_totals.customer_accounts_minor, 8_000);
    assert_eq!(eur_totals.internal_accounts.len(), 3);
    Ok(())
}

/// How many tasks transfer at once, and how many transfers each makes.
const TASKS: usize = 16;
const TRANSFERS_PER_TASK: usize = 20;

/// 16 tasks × 20 random transfers among 5 accounts: the total is unchanged, and every balance
/// is the sum of its postings.
pub async fn concurrent_transfers_keep_the_books_balanced<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let mut accounts = Vec::new();
    for _ in 0..5 {
        accounts.push(funded_account(store, 10_000).await?.id);
    }
    let mut tasks = JoinSet::new();
    for task in 0..TASKS {
        let store = store.clone();
        let accounts = accounts.clone();
        tasks.spawn(async move {
            // A small linear congruential generator: random enough, and no dependency.
            let mut seed = 0x9E37_79B9_u64.wrapping_mul(task as u64 + 1);
            let mut next = move || {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (seed >> 33) as usize
            };
            for _ in 0..TRANSFERS_PER_TASK {
                let source = accounts.get(next() % 5).copied().context("source")?;
                let destination = accounts.get(next() % 5).copied().context("destination")?;
                let amount = eur(i64::try_from(next() % 3_000)? + 1)?;
                // Refusals (same account, insufficient funds) are fine: they write nothing.
                run(
                    &store,
                    LedgerRequest::Transfer {
                        source,
                        destination,
                        amount,
                        label: None,
                        counterparty_iban: None,
                    },
                )
                .await?
                .ok();
            }
            anyhow::Ok(())
        });
    }
    while let Some(outcome) = tasks.join_next().await {
        outcome.context("a transfer task panicked")??;
    }
    let mut total = 0;
    for id in &accounts {
        let balance = store.get_account(*id).await?.balance_minor;
        total += balance;
        let mut sum = 0;
        let mut after = None;
        loop {
            let lines = store
                .statement_lines(*id, &Default::default(), after, 100)
                .await?;
            let Some(last) = lines.last() else { break };
            after = Some(last.entry_id);
            sum += lines
                .iter()
                .map(|line| line.direction.signed(line.amount.amount_minor()))
                .sum::<i64>();
            assert_eq!(last.balance_after_minor, sum);
        }
        assert_eq!(sum, balance, "account {id}");
    }
    assert_eq!(total, 50_000);
    let transfers = store
        .list_transactions(&Default::default(), None, 1_000)
        .await?;
    for transaction in &transfers {
        assert!(transaction.is_balanced());
        assert!(
            transaction.postings.iter().all(
                |p| !matches!(p.account, LedgerAccount::Customer(id) if !accounts.contains(&id))
            )
        );
    }
    Ok(())
}
