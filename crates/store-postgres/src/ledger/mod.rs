//! The transaction engine: one database transaction per group of batches (group commit),
//! claiming their idempotency keys first, then locking what they touch in the fixed order
//! (customer accounts by id, internal accounts by id, the event chain head last), applying the
//! pure ledger batch after batch, and writing back what changed with set-based statements.

mod idempotency;
mod load;
mod write;

use coffre_app::ports::{LedgerBatch, LedgerOutcome, StoreError};
use coffre_store_sql::ledger::LedgerEngine;
use coffre_store_sql::ledger_group::{SplitGroup, apply_group, finish, split_group, touched_by};
use sqlx::PgPool;

use crate::PostgresEngine;
use crate::error::StoreContext;
use crate::events;

/// Runs a group of batches (see [`coffre_app::ports::Ledger::execute`]). PostgreSQL's default
/// `READ COMMITTED` is enough: everything read to decide is read under a row lock, and a key
/// another node is claiming at the same time is waited for by the unique index.
pub(crate) async fn execute(
    pool: &PgPool,
    group: Vec<LedgerBatch>,
) -> Result<Vec<LedgerOutcome>, StoreError> {
    let SplitGroup {
        members,
        responders,
        now,
    } = split_group(group)?;
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin a ledger group")?;
    let earlier = idempotency::claim_all(&mut tx, &members, now).await?;
    let before = load::lock_state(&mut tx, touched_by(&members, &earlier)).await?;
    let applied = apply_group(&before, &members, &earlier, now)?;
    write::write_diff(&mut tx, &before, &applied.diff).await?;
    events::append_attributed(&mut tx, &applied.events, now).await?;
    let (records, outcomes) = finish(applied.results, earlier, responders)?;
    idempotency::store_responses(&mut tx, &members, &records).await?;
    tx.commit()
        .await
        .store_context("failed to commit a ledger group")?;
    Ok(outcomes)
}

impl LedgerEngine for PostgresEngine {
    async fn execute_group(
        &self,
        group: Vec<LedgerBatch>,
    ) -> Result<Vec<LedgerOutcome>, StoreError> {
        execute(&self.pool, group).await
    }
}
