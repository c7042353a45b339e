//! The transaction engine: one database transaction per batch, locking what it touches in the
//! fixed order (customer accounts by id, internal accounts by id, the event chain head last),
//! then applying the pure ledger and writing back what it changed.

mod idempotency;
mod load;
pub(crate) mod reads;
mod write;

use coffre_app::ports::{LedgerBatch, LedgerOutcome, StoreError};
use coffre_domain::ledger::apply;
use coffre_store_sql::ledger_plan::{discards, events_of, ledger_diff};
use coffre_store_sql::writes::stored_instant;
use sqlx::PgPool;

use crate::error::StoreContext;
use crate::events;

/// Runs a batch (see [`coffre_app::ports::Ledger::execute`]). PostgreSQL's default
/// `READ COMMITTED` is enough: everything read to decide is read under a row lock.
pub(crate) async fn execute(
    pool: &PgPool,
    batch: LedgerBatch,
) -> Result<LedgerOutcome, StoreError> {
    let LedgerBatch {
        commands,
        atomic,
        actor,
        now,
        policy,
        idempotency,
    } = batch;
    // At the stored precision, so that what the batch returns is what a later read returns.
    let now = stored_instant(now);
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin a ledger batch")?;
    let (claim, respond) = idempotency.map(idempotency::split).unzip();
    if let Some(claim) = &claim {
        if let Some(earlier) = idempotency::earlier_outcome(&mut tx, claim).await? {
            tx.rollback()
                .await
                .store_context("failed to end a replayed ledger batch")?;
            return Ok(earlier);
        }
    }
    let before = load::lock_state(&mut tx, &commands).await?;
    let mut state = before.clone();
    let results = apply(&mut state, &commands, &policy, now);
    if !discards(atomic, &results) {
        let diff = ledger_diff(&before, &state, &results)?;
        write::write_diff(&mut tx, &before, &diff).await?;
        events::append(&mut tx, &events_of(&results), actor, now).await?;
    }
    let response = match (claim, respond) {
        (Some(claim), Some(respond)) => {
            let response = respond(&results);
            idempotency::insert(&mut tx, &claim, &response, now).await?;
            Some(response)
        }
        _ => None,
    };
    tx.commit()
        .await
        .store_context("failed to commit a ledger batch")?;
    Ok(LedgerOutcome::Executed { results, response })
}
