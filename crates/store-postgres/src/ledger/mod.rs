//! The transaction engine: one database transaction per group of batches (group commit),
//! claiming their idempotency keys first, then locking what they touch in the fixed order
//! (customer accounts by id, internal accounts by id, the event chain head last), applying the
//! pure ledger batch after batch, and writing back what changed with set-based statements.

mod idempotency;
mod load;
pub(crate) mod reads;
mod write;

use coffre_app::ports::{
    Ledger, LedgerBatch, LedgerOutcome, StatementFilter, StatementLine, StatementTotals,
    StoreError, TransactionFilter,
};
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use coffre_domain::{AccountId, Iban};
use coffre_store_sql::ledger_group::{SplitGroup, apply_group, finish, split_group, touched_by};
use sqlx::PgPool;
use time::OffsetDateTime;

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

impl Ledger for PostgresEngine {
    async fn execute(&self, group: Vec<LedgerBatch>) -> Result<Vec<LedgerOutcome>, StoreError> {
        execute(&self.pool, group).await
    }

    async fn account_id_by_iban(&self, iban: &Iban) -> Result<Option<AccountId>, StoreError> {
        reads::account_id_by_iban(&self.pool, iban).await
    }

    async fn get_transaction(&self, id: TransactionId) -> Result<Transaction, StoreError> {
        reads::get_transaction(&self.pool, id).await
    }

    async fn list_transactions(
        &self,
        filter: &TransactionFilter,
        before: Option<TransactionId>,
        limit: u32,
    ) -> Result<Vec<Transaction>, StoreError> {
        reads::list_transactions(&self.pool, filter, before, limit).await
    }

    async fn get_hold(&self, id: HoldId) -> Result<Hold, StoreError> {
        reads::get_hold(&self.pool, id).await
    }

    async fn expired_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<HoldId>, StoreError> {
        reads::expired_holds(&self.pool, now, limit).await
    }

    async fn pending_holds_minor(
        &self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        reads::pending_holds_minor(&self.pool, account, now).await
    }

    async fn statement_lines(
        &self,
        account: AccountId,
        filter: &StatementFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StatementLine>, StoreError> {
        reads::statement_lines(&self.pool, account, filter, after, limit).await
    }

    async fn balance_before(
        &self,
        account: AccountId,
        instant: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        reads::balance_before(&self.pool, account, instant).await
    }

    async fn statement_totals(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<StatementTotals, StoreError> {
        reads::statement_totals(&self.pool, account, from, to).await
    }
}
