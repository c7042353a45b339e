//! Group commit: several batches in one database transaction, each with its own outcome.

use std::time::Duration;

use anyhow::Context;
use coffre_app::group_commit::{GroupCommit, GroupCommitConfig};
use coffre_app::ports::{
    EventFilter, IdempotencyClaim, LedgerBatch, LedgerOutcome, Storage, StoredResponse,
};
use coffre_domain::ledger::{LedgerError, LedgerRequest};
use coffre_domain::{Account, AccountId};

use super::fixtures::{batch, eur, funded_account, results};

fn transfer(source: &Account, destination: &Account, minor: i64) -> anyhow::Result<LedgerRequest> {
    Ok(LedgerRequest::Transfer {
        source: source.id,
        destination: destination.id,
        amount: eur(minor)?,
        label: None,
        counterparty_iban: None,
    })
}

/// A claim on `key` whose stored response says how many commands were accepted.
fn claim(key: &str) -> IdempotencyClaim {
    IdempotencyClaim {
        scope: "user:group-commit".to_owned(),
        key: key.to_owned(),
        fingerprint: "fingerprint".to_owned(),
        expires_at: super::fixtures::now() + time::Duration::days(2),
        respond: Box::new(|results| StoredResponse {
            status: 201,
            content_type: "text/plain".to_owned(),
            body: results
                .iter()
                .filter(|result| result.is_ok())
                .count()
                .to_string()
                .into_bytes(),
        }),
    }
}

async fn balance<S: Storage>(store: &S, account: AccountId) -> anyhow::Result<i64> {
    Ok(store.get_account(account).await?.balance_minor)
}

/// In one group: a refused transfer, and a refused all-or-nothing batch, leave the batches
/// around them booked; a later batch sees what an earlier one booked; each keyed batch gets
/// its own stored response.
pub async fn a_refusal_in_a_group_does_not_affect_its_neighbours<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let a = funded_account(store, 1_000).await?;
    let b = funded_account(store, 0).await?;
    let poor = funded_account(store, 10).await?;
    let events_before = store.live_state().await?.last_sequence;
    let mut first = batch(vec![transfer(&a, &b, 600)?], false);
    first.idempotency = Some(claim("first"));
    let refused = batch(vec![transfer(&poor, &b, 500)?], false);
    let all_or_nothing = batch(
        vec![transfer(&a, &poor, 100)?, transfer(&poor, &a, 10_000)?],
        true,
    );
    // Only possible with the 600 the first batch moved to `b`.
    let mut spends_the_first = batch(vec![transfer(&b, &poor, 550)?], false);
    spends_the_first.idempotency = Some(claim("last"));
    let group: Vec<LedgerBatch> = vec![first, refused, all_or_nothing, spends_the_first];
    let outcomes = store.execute(group).await?;
    assert_eq!(outcomes.len(), 4);
    let mut outcomes = outcomes.into_iter();
    let mut next = || outcomes.next().context("an outcome per batch");
    let first = next()?;
    assert!(
        matches!(&first, LedgerOutcome::Executed { response: Some(r), .. } if r.body == b"1"),
        "{first:?}"
    );
    assert_eq!(
        results(next()?)?.pop().context("one result")?.err(),
        Some(LedgerError::InsufficientFunds)
    );
    let atomic = results(next()?)?;
    assert!(atomic[0].is_ok() && atomic[1] == Err(LedgerError::InsufficientFunds));
    let last = next()?;
    assert!(
        matches!(&last, LedgerOutcome::Executed { response: Some(r), .. } if r.body == b"1"),
        "{last:?}"
    );
    assert_eq!(balance(store, a.id).await?, 400);
    assert_eq!(balance(store, b.id).await?, 50);
    assert_eq!(balance(store, poor.id).await?, 560);
    // Two transfers booked, one event each, chained in group order.
    let events = store
        .events(&EventFilter::default(), events_before, 100)
        .await?;
    assert_eq!(events.len(), 2, "{events:?}");
    Ok(())
}

/// Requests sent to one node's queue at the same time are coalesced into one group (they are
/// booked at one instant, with consecutive events), and the refused one among them fails
/// alone.
pub async fn concurrent_requests_are_coalesced_and_answered_one_by_one<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let a = funded_account(store, 1_000).await?;
    let b = funded_account(store, 0).await?;
    let events_before = store.live_state().await?.last_sequence;
    let node = GroupCommit::new(
        store.clone(),
        GroupCommitConfig {
            enabled: true,
            max_commands: 100,
            // Long enough for the three requests to queue behind the first.
            max_wait: Duration::from_millis(500),
        },
    );
    let amounts = [100, 5_000, 200];
    let mut tasks = Vec::new();
    for amount in amounts {
        let node = node.clone();
        let request = transfer(&a, &b, amount)?;
        tasks.push(tokio::spawn(async move {
            node.execute(batch(vec![request], false)).await
        }));
    }
    let mut refused = 0;
    for task in tasks {
        let result = results(task.await.context("a request task panicked")??)?;
        match result.as_slice() {
            [Ok(_)] => {}
            [Err(LedgerError::InsufficientFunds)] => refused += 1,
            other => anyhow::bail!("unexpected results {other:?}"),
        }
    }
    assert_eq!(refused, 1);
    assert_eq!(balance(store, a.id).await?, 700);
    assert_eq!(balance(store, b.id).await?, 300);
    let events = store
        .events(&EventFilter::default(), events_before, 100)
        .await?;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[0].occurred_at, events[1].occurred_at,
        "one group, one booking instant"
    );
    Ok(())
}
