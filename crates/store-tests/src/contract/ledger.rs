//! The transaction engine: balances, postings, refusals, batches, idempotency, reversals,
//! statements (holds in [`super::holds`]).

use anyhow::Context;
use coffre_app::ports::{
    IdempotencyClaim, LedgerOutcome, StatementFilter, Storage, StoredResponse,
};
use coffre_domain::ledger::{
    Direction, LedgerAccount, LedgerError, LedgerRequest, TransactionId, TransactionStatus,
    TransactionType,
};
use time::Duration;

use super::fixtures::{self, batch, eur, execute_one, funded_account, results, run};

/// The id of the transaction an accepted request booked.
pub(super) fn booked(
    outcome: Result<coffre_domain::ledger::Applied, LedgerError>,
) -> anyhow::Result<TransactionId> {
    let applied = outcome.map_err(|error| anyhow::anyhow!("refused: {error}"))?;
    Ok(applied.transaction.context("no transaction booked")?.id)
}

/// Deposits, withdrawals and transfers move the balances, book balanced postings with running
/// balances, and read back.
pub async fn money_moves_and_reads_back<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 10_000).await?;
    let b = funded_account(store, 0).await?;
    let withdrawal = booked(
        run(
            store,
            LedgerRequest::Withdrawal {
                account: a.id,
                amount: eur(1_500)?,
                label: None,
            },
        )
        .await?,
    )?;
    let transfer = booked(
        run(
            store,
            LedgerRequest::Transfer {
                source: a.id,
                destination: b.id,
                amount: eur(2_500)?,
                label: Some("loyer".to_owned()),
                counterparty_iban: None,
            },
        )
        .await?,
    )?;
    assert_eq!(store.get_account(a.id).await?.balance_minor, 6_000);
    assert_eq!(store.get_account(b.id).await?.balance_minor, 2_500);

    let stored = store.get_transaction(transfer).await?;
    assert_eq!(stored.transaction_type, TransactionType::Transfer);
    assert_eq!(stored.status, TransactionStatus::Completed);
    assert_eq!(
        (stored.source, stored.destination),
        (Some(a.id), Some(b.id))
    );
    assert_eq!(stored.label.as_deref(), Some("loyer"));
    assert!(stored.is_balanced());
    let lines: Vec<(LedgerAccount, Direction, i64)> = stored
        .postings
        .iter()
        .map(|p| (p.account, p.direction, p.balance_after_minor))
        .collect();
    assert_eq!(
        lines,
        [
            (LedgerAccount::Customer(a.id), Direction::Debit, 6_000),
            (LedgerAccount::Customer(b.id), Direction::Credit, 2_500),
        ]
    );
    let stored_withdrawal = store.get_transaction(withdrawal).await?;
    assert_eq!(stored_withdrawal.amount, eur(1_500)?);
    assert!(stored_withdrawal.is_balanced());
    assert!(matches!(
        store
            .get_transaction(TransactionId(uuid::Uuid::now_v7()))
            .await,
        Err(coffre_app::ports::StoreError::NotFound)
    ));
    let listed = store
        .list_transactions(
            &coffre_app::ports::TransactionFilter {
                account_id: Some(b.id),
                ..Default::default()
            },
            None,
            10,
        )
        .await?;
    assert_eq!(listed, [stored]);
    assert_eq!(store.account_id_by_iban(&a.iban).await?, Some(a.id));
    Ok(())
}

/// A refused request writes nothing: balances, versions and the event log stay as they were.
pub async fn a_refused_request_writes_nothing<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 1_000).await?;
    let live = store.live_state().await?;
    let outcome = run(
        store,
        LedgerRequest::Withdrawal {
            account: a.id,
            amount: eur(1_001)?,
            label: None,
        },
    )
    .await?;
    assert_eq!(outcome, Err(LedgerError::InsufficientFunds));
    assert_eq!(store.get_account(a.id).await?, a);
    assert_eq!(store.live_state().await?, live);
    Ok(())
}

/// An all-or-nothing batch with one refusal writes nothing; the same batch not atomic writes
/// the accepted commands.
pub async fn atomic_batches_write_all_or_nothing<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 1_000).await?;
    let requests = || -> anyhow::Result<Vec<LedgerRequest>> {
        Ok(vec![
            LedgerRequest::Withdrawal {
                account: a.id,
                amount: eur(100)?,
                label: None,
            },
            LedgerRequest::Withdrawal {
                account: a.id,
                amount: eur(5_000)?,
                label: None,
            },
            LedgerRequest::Withdrawal {
                account: a.id,
                amount: eur(200)?,
                label: None,
            },
        ])
    };
    let atomic = results(execute_one(store, batch(requests()?, true)).await?)?;
    assert_eq!(atomic.iter().filter(|r| r.is_ok()).count(), 2);
    assert_eq!(store.get_account(a.id).await?.balance_minor, 1_000);
    for applied in atomic.iter().flatten() {
        let id = applied.transaction.as_ref().context("booked")?.id;
        assert!(store.get_transaction(id).await.is_err());
    }
    let partial = results(execute_one(store, batch(requests()?, false)).await?)?;
    assert_eq!(partial.iter().filter(|r| r.is_ok()).count(), 2);
    assert_eq!(store.get_account(a.id).await?.balance_minor, 700);
    Ok(())
}

/// A claim for `key` with `fingerprint` whose response says how many commands succeeded.
fn claim(key: &str, fingerprint: &str) -> IdempotencyClaim {
    IdempotencyClaim {
        scope: "user:contract".to_owned(),
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        expires_at: fixtures::now() + Duration::hours(24),
        respond: Box::new(|results| StoredResponse {
            status: 201,
            content_type: "application/json".to_owned(),
            body: format!(
                "{{\"ok\":{}}}",
                results.iter().filter(|r| r.is_ok()).count()
            )
            .into_bytes(),
        }),
    }
}

/// A replayed key returns the stored response and writes nothing twice; the same key for
/// another request is refused.
pub async fn idempotency_keys_replay_and_refuse_reuse<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 0).await?;
    let deposit = || -> anyhow::Result<_> {
        let mut batch = batch(
            vec![LedgerRequest::Deposit {
                account: a.id,
                amount: eur(300)?,
                label: None,
            }],
            true,
        );
        batch.idempotency = Some(claim("key-1", "fingerprint-1"));
        Ok(batch)
    };
    let first = execute_one(store, deposit()?).await?;
    let LedgerOutcome::Executed {
        response: Some(response),
        ..
    } = first
    else {
        anyhow::bail!("the first request must execute and store its response: {first:?}");
    };
    assert_eq!(response.body, b"{\"ok\":1}");
    let second = execute_one(store, deposit()?).await?;
    assert!(matches!(&second, LedgerOutcome::Replayed(stored) if *stored == response));
    assert_eq!(store.get_account(a.id).await?.balance_minor, 300);

    let mut other = deposit()?;
    other.idempotency = Some(claim("key-1", "fingerprint-2"));
    assert!(matches!(
        execute_one(store, other).await?,
        LedgerOutcome::KeyReused
    ));
    assert_eq!(store.get_account(a.id).await?.balance_minor, 300);
    Ok(())
}

/// A reversal books the mirror image and flips the original to `REVERSED`; a second one is
/// refused.
pub async fn a_transaction_is_reversed_once<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 5_000).await?;
    let b = funded_account(store, 0).await?;
    let original = booked(
        run(
            store,
            LedgerRequest::Transfer {
                source: a.id,
                destination: b.id,
                amount: eur(1_200)?,
                label: None,
                counterparty_iban: None,
            },
        )
        .await?,
    )?;
    let reversal = booked(
        run(
            store,
            LedgerRequest::Reverse {
                original,
                label: None,
            },
        )
        .await?,
    )?;
    let stored = store.get_transaction(original).await?;
    assert_eq!(stored.status, TransactionStatus::Reversed);
    assert_eq!(stored.reversed_by, Some(reversal));
    assert_eq!(
        store.get_transaction(reversal).await?.reverses,
        Some(original)
    );
    assert_eq!(store.get_account(a.id).await?.balance_minor, 5_000);
    assert_eq!(store.get_account(b.id).await?.balance_minor, 0);
    let again = run(
        store,
        LedgerRequest::Reverse {
            original,
            label: None,
        },
    )
    .await?;
    assert_eq!(again, Err(LedgerError::NotReversible));
    let unknown = TransactionId(uuid::Uuid::now_v7());
    assert_eq!(
        run(
            store,
            LedgerRequest::Reverse {
                original: unknown,
                label: None
            }
        )
        .await?,
        Err(LedgerError::UnknownTransaction(unknown))
    );
    Ok(())
}

/// Statement lines come in booking order, page by the `entry_id` cursor, and filter by type
/// and time; `balance_before` reads the running balance.
pub async fn statement_lines_paginate_and_filter<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 1_000).await?;
    let start = fixtures::now();
    for minor in [100, 200, 300] {
        booked(
            run(
                store,
                LedgerRequest::Withdrawal {
                    account: a.id,
                    amount: eur(minor)?,
                    label: None,
                },
            )
            .await?,
        )?;
    }
    let all = store
        .statement_lines(a.id, &StatementFilter::default(), None, 100)
        .await?;
    let balances: Vec<i64> = all.iter().map(|l| l.balance_after_minor).collect();
    assert_eq!(balances, [1_000, 900, 700, 400]);
    assert!(all.windows(2).all(|w| w[0].entry_id < w[1].entry_id));

    let first = store
        .statement_lines(a.id, &StatementFilter::default(), None, 2)
        .await?;
    let cursor = first.last().map(|l| l.entry_id);
    let rest = store
        .statement_lines(a.id, &StatementFilter::default(), cursor, 2)
        .await?;
    assert_eq!([first, rest].concat(), all);

    let withdrawals = store
        .statement_lines(
            a.id,
            &StatementFilter {
                transaction_type: Some(TransactionType::Withdrawal),
                ..Default::default()
            },
            None,
            100,
        )
        .await?;
    assert_eq!(withdrawals.len(), 3);
    assert!(withdrawals.iter().all(|l| l.direction == Direction::Debit));
    let before_start = store
        .statement_lines(
            a.id,
            &StatementFilter {
                to: Some(start),
                ..Default::default()
            },
            None,
            100,
        )
        .await?;
    assert_eq!(before_start.len(), 1);
    assert_eq!(store.balance_before(a.id, start).await?, 1_000);
    assert_eq!(
        store
            .balance_before(a.id, start - Duration::days(1))
            .await?,
        0
    );
    Ok(())
}
