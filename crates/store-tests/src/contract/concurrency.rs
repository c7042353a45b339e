//! Concurrent read-modify-write: every update under lock lands, none is lost.

use anyhow::Context;
use coffre_app::ports::{Storage, StoreError, ThrottleState};
use coffre_domain::{Account, AccountStatus, AccountType};
use tokio::task::JoinSet;

use super::fixtures;

/// How many updates race against each other.
const RACERS: i64 = 20;

/// 20 concurrent updates of one account, each adding one to its overdraft limit from what it
/// read, all land: the limit ends at 20 and the version went up by 20.
pub async fn concurrent_account_updates_are_never_lost<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Race", "Condition").await?;
    let account = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::Active,
    )
    .await?;

    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let store = store.clone();
        racers.spawn(async move {
            store
                .update_account(account.id, fixtures::ACTOR, |account: &mut Account| {
                    account.overdraft_limit_minor += 1;
                    account.version += 1;
                    Ok::<_, StoreError>(())
                })
                .await
        });
    }
    while let Some(outcome) = racers.join_next().await {
        outcome.context("an update task failed")??;
    }

    let stored = store.get_account(account.id).await?;
    assert_eq!(
        stored.overdraft_limit_minor,
        account.overdraft_limit_minor + RACERS
    );
    assert_eq!(stored.version, account.version + RACERS);
    Ok(())
}

/// 20 concurrent failures on a key that has no state yet all count: the first writers race to
/// create the row, and none of them may overwrite another.
pub async fn concurrent_throttle_updates_are_never_lost<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let start = fixtures::now();
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let store = store.clone();
        racers.spawn(async move {
            store
                .update_throttle("user:contended", move |state| ThrottleState {
                    failures: state.map_or(0, |s| s.failures) + 1,
                    window_started_at: start,
                    locked_until: None,
                })
                .await
        });
    }
    while let Some(outcome) = racers.join_next().await {
        outcome.context("a throttle task failed")??;
    }
    let states = store
        .throttle_states(&["user:contended".to_owned()])
        .await?;
    assert_eq!(states[0].map(|s| i64::from(s.failures)), Some(RACERS));
    Ok(())
}
