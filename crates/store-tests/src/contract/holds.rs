//! Holds: reserved until captured, released or expired; an account with a pending hold
//! cannot close.

use anyhow::Context;
use coffre_app::ports::{Ledger, Storage};
use coffre_domain::ledger::{HoldId, HoldStatus, LedgerError, LedgerRequest};
use coffre_domain::{AccountId, AccountStatus};
use time::Duration;

use super::fixtures::{self, batch, eur, execute_one, funded_account, results, run};
use super::ledger::booked;

/// Places a hold of `minor` on `account`, expiring in an hour.
async fn place_hold<S: Ledger>(
    store: &S,
    account: AccountId,
    minor: i64,
) -> anyhow::Result<HoldId> {
    let applied = run(
        store,
        LedgerRequest::PlaceHold {
            account,
            amount: eur(minor)?,
            expires_at: fixtures::now() + Duration::hours(1),
        },
    )
    .await?
    .map_err(|error| anyhow::anyhow!("hold refused: {error}"))?;
    Ok(applied.hold.context("no hold placed")?.id)
}

/// Holds reserve money until captured (in part), released or expired; an expired hold frees
/// its money without any write.
pub async fn holds_reserve_until_captured_released_or_expired<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let a = funded_account(store, 10_000).await?;
    let captured = place_hold(store, a.id, 4_000).await?;
    let released = place_hold(store, a.id, 3_000).await?;
    assert_eq!(
        store.pending_holds_minor(a.id, fixtures::now()).await?,
        7_000
    );
    let over = run(
        store,
        LedgerRequest::Withdrawal {
            account: a.id,
            amount: eur(3_001)?,
            label: None,
        },
    )
    .await?;
    assert_eq!(over, Err(LedgerError::InsufficientFunds));

    booked(
        run(
            store,
            LedgerRequest::CaptureHold {
                hold: captured,
                amount: Some(eur(2_500)?),
                label: None,
            },
        )
        .await?,
    )?;
    let hold = store.get_hold(captured).await?;
    assert_eq!(hold.status, HoldStatus::Captured);
    assert_eq!(hold.captured_minor, Some(2_500));
    assert_eq!(store.get_account(a.id).await?.balance_minor, 7_500);
    run(store, LedgerRequest::ReleaseHold { hold: released })
        .await?
        .map_err(|error| anyhow::anyhow!("release refused: {error}"))?;
    assert_eq!(store.get_hold(released).await?.status, HoldStatus::Released);
    assert_eq!(store.pending_holds_minor(a.id, fixtures::now()).await?, 0);

    // A hold placed in the past, already expired: it reserves nothing and is listed for the
    // sweeper, without having been written since.
    let mut past = batch(
        vec![LedgerRequest::PlaceHold {
            account: a.id,
            amount: eur(1_000)?,
            expires_at: fixtures::now() - Duration::minutes(1),
        }],
        true,
    );
    past.now = fixtures::now() - Duration::hours(1);
    let expired = results(execute_one(store, past).await?)?
        .into_iter()
        .next()
        .context("one result")?
        .map_err(|error| anyhow::anyhow!("hold refused: {error}"))?
        .hold
        .context("no hold")?
        .id;
    let now = fixtures::now();
    assert_eq!(store.pending_holds_minor(a.id, now).await?, 0);
    assert_eq!(store.expired_holds(now, 10).await?, [expired]);
    run(
        store,
        LedgerRequest::Withdrawal {
            account: a.id,
            amount: eur(7_500)?,
            label: None,
        },
    )
    .await?
    .map_err(|error| anyhow::anyhow!("the expired hold still reserved money: {error}"))?;
    run(store, LedgerRequest::ExpireHold { hold: expired })
        .await?
        .map_err(|error| anyhow::anyhow!("expiry refused: {error}"))?;
    assert_eq!(store.get_hold(expired).await?.status, HoldStatus::Expired);
    assert!(store.expired_holds(now, 10).await?.is_empty());
    Ok(())
}

/// An account with a pending hold cannot be closed; once empty, it can.
pub async fn closing_with_a_pending_hold_is_refused<S: Storage>(store: &S) -> anyhow::Result<()> {
    let a = funded_account(store, 0).await?;
    let b = funded_account(store, 500).await?;
    let hold = place_hold(store, b.id, 100).await?;
    let refused = run(store, LedgerRequest::Close { account: b.id }).await?;
    assert_eq!(refused, Err(LedgerError::AccountNotEmpty));
    run(store, LedgerRequest::ReleaseHold { hold })
        .await?
        .map_err(|error| anyhow::anyhow!("release refused: {error}"))?;
    assert_eq!(
        run(store, LedgerRequest::Close { account: b.id }).await?,
        Err(LedgerError::AccountNotEmpty)
    );
    run(store, LedgerRequest::Close { account: a.id })
        .await?
        .map_err(|error| anyhow::anyhow!("close refused: {error}"))?;
    assert_eq!(store.get_account(a.id).await?.status, AccountStatus::Closed);
    Ok(())
}
