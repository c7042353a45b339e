//! Concurrent updates of one user's enrolment: what makes a TOTP code single-use across
//! nodes.

use std::sync::Arc;

use anyhow::{Context, ensure};
use coffre_app::ports::{MfaStore, Storage, TotpRecord};
use coffre_domain::UserId;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::{enrol, enrolment, staff_user};
use crate::contract::fixtures::ClosureError;

/// How many updates of one enrolment race against each other.
const RACERS: usize = 8;

/// How many races each test runs: the first may find the store's pool still opening its
/// connections, which spaces the racers out; the later ones overlap for real.
const ROUNDS: i64 = 5;

/// The TOTP step of the code presented in the first round (each round presents the next).
const FIRST_STEP: i64 = 100;

/// What an update task comes to.
type Outcome = Result<Option<TotpRecord>, ClosureError>;

/// Runs `RACERS` updates of `user_id`'s enrolment at once, each with a closure `racer`
/// makes, and returns what the ones that wrote stored and how many were refused by their
/// closure; any other outcome fails.
async fn race<S, F, C>(
    store: &S,
    user_id: UserId,
    racer: F,
) -> anyhow::Result<(Vec<Option<TotpRecord>>, usize)>
where
    S: MfaStore,
    F: Fn() -> C,
    C: FnOnce(Option<TotpRecord>) -> Outcome + Send + 'static,
{
    // Every racer waits for all the others before updating, so that they truly overlap.
    let start = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let store = store.clone();
        let start = Arc::clone(&start);
        let change = racer();
        racers.spawn(async move {
            start.wait().await;
            store.update_totp(user_id, change).await
        });
    }
    let (mut accepted, mut refused) = (Vec::new(), 0);
    while let Some(outcome) = racers.join_next().await {
        match outcome.context("an update task failed")? {
            Ok(stored) => accepted.push(stored),
            Err(ClosureError::Refused) => refused += 1,
            Err(ClosureError::Store(error)) => return Err(error.into()),
        }
    }
    Ok((accepted, refused))
}

/// Eight logins present the same code at once: each accepts it only if no code of its step
/// was used yet, and marks the step used. Exactly one succeeds; the others see its step.
pub async fn concurrent_uses_of_one_totp_code_accept_it_once<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let user = staff_user(store).await?;
    enrol(store, user.id).await?;

    for step in FIRST_STEP..FIRST_STEP + ROUNDS {
        let (accepted, refused) = race(store, user.id, || {
            move |current: Option<TotpRecord>| {
                let mut record = current.ok_or(ClosureError::Refused)?;
                if record.last_used_step.is_some_and(|used| used >= step) {
                    return Err(ClosureError::Refused);
                }
                record.last_used_step = Some(step);
                Ok(Some(record))
            }
        })
        .await?;

        ensure!(
            accepted.len() == 1,
            "the code of step {step} was accepted {} times",
            accepted.len()
        );
        assert_eq!(refused, RACERS - 1);
        let stored = store.find_totp(user.id).await?;
        assert_eq!(
            stored.as_ref().and_then(|record| record.last_used_step),
            Some(step)
        );
        assert_eq!(accepted, [stored]);
    }
    Ok(())
}

/// Eight first enrolments of one user race: each writes only if there is no enrolment yet.
/// There is no enrolment row to lock, so the store must lock the user: exactly one writes.
pub async fn concurrent_first_enrolments_store_one<S: Storage>(store: &S) -> anyhow::Result<()> {
    for _ in 0..ROUNDS {
        let user = staff_user(store).await?;
        let (accepted, refused) = race(store, user.id, || {
            let record = enrolment(user.id);
            move |current: Option<TotpRecord>| match current {
                None => Ok(Some(record)),
                Some(_) => Err(ClosureError::Refused),
            }
        })
        .await?;

        ensure!(
            accepted.len() == 1,
            "{} first enrolments were stored",
            accepted.len()
        );
        assert_eq!(refused, RACERS - 1);
        let stored = store.find_totp(user.id).await?;
        ensure!(stored.is_some(), "no enrolment was stored");
        assert_eq!(
            accepted,
            [stored],
            "the stored enrolment is not the winner's"
        );
    }
    Ok(())
}
