//! The ledger port: the transaction engine, one database transaction per group of batches
//! (group commit) whose steps each engine runs with its own set-based SQL ([`LedgerEngine`]),
//! and the reads of transactions, holds and statements.

pub mod reads;
mod statements;

use std::future::Future;

use coffre_app::ports::{
    Ledger, LedgerBatch, LedgerOutcome, StatementFilter, StatementLine, StatementTotals,
    StoreError, TransactionFilter,
};
use coffre_domain::ledger::{Hold, HoldId, LedgerState, Transaction, TransactionId};
use coffre_domain::{AccountId, Iban};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use self::reads::{fetch_hold, fetch_transaction, with_postings};
use crate::engine::{Engine, StoreContext};
use crate::events;
use crate::ledger_group::{
    Member, Record, SplitGroup, apply_group, finish, split_group, touched_by,
};
use crate::ledger_plan::{LedgerDiff, Touched};
use crate::ledger_rows::{ChainHeadRow, HoldRow, PostingRow, StatementLineRow, TransactionRow};
use crate::store::SqlStore;

/// The steps of a ledger group that each engine runs with its own SQL: they read and write
/// many rows at once, with statements that differ (`= ANY($1)` and `unnest` arrays on
/// PostgreSQL; `IN` lists and multi-row `VALUES`, chunked under SQLite's bind limit).
pub trait LedgerEngine: Engine {
    /// Claims the members' idempotency keys: for each member, the outcome of an earlier
    /// request with its key (its reply to replay, or a refusal for another request), or `None`
    /// when the member runs now. A key claimed by a concurrent group is waited for.
    fn claim_keys(
        conn: &mut <Self::Db as Database>::Connection,
        members: &[Member],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<Option<LedgerOutcome>>, StoreError>> + Send;

    /// Locks and loads the state what the group names needs, in the one lock order (customer
    /// accounts by id, then internal accounts by id; the event chain head comes last, when
    /// appending). What does not exist is absent: `apply` refuses the commands naming it.
    fn lock_state(
        conn: &mut <Self::Db as Database>::Connection,
        touched: Touched,
    ) -> impl Future<Output = Result<LedgerState, StoreError>> + Send;

    /// Writes the difference between the locked state and the state after `apply`.
    fn write_diff(
        conn: &mut <Self::Db as Database>::Connection,
        before: &LedgerState,
        diff: &LedgerDiff,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores the replies of the members that have a key.
    fn store_replies(
        conn: &mut <Self::Db as Database>::Connection,
        members: &[Member],
        records: &[Record],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<E: LedgerEngine> Ledger for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (Uuid,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    (i64, i64, i64, Option<i64>): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    TransactionRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    PostingRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    HoldRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    for<'q> &'q [u8]: Encode<'q, E::Db> + Type<E::Db>,
    StatementLineRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    ChainHeadRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Runs a group of batches in one transaction: claim their keys, lock what they touch,
    /// apply the pure ledger batch after batch, write what changed and the events that say
    /// how, and store the replies under their keys, all committed together.
    async fn execute(&self, group: Vec<LedgerBatch>) -> Result<Vec<LedgerOutcome>, StoreError> {
        let SplitGroup {
            members,
            responders,
            now,
        } = split_group(group)?;
        let mut tx = self.engine.begin_write().await?;
        let earlier = E::claim_keys(&mut tx, &members, now).await?;
        let before = E::lock_state(&mut tx, touched_by(&members, &earlier)).await?;
        let applied = apply_group(&before, &members, &earlier, now)?;
        E::write_diff(&mut tx, &before, &applied.diff).await?;
        events::append_attributed::<E>(&mut tx, &applied.events, now).await?;
        let (records, outcomes) = finish(applied.results, earlier, responders)?;
        E::store_replies(&mut tx, &members, &records, now).await?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit a ledger group")?;
        Ok(outcomes)
    }

    /// The id of the account with this IBAN, if any (IBANs are unique, whatever the status).
    async fn account_id_by_iban(&self, iban: &Iban) -> Result<Option<AccountId>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM accounts WHERE iban = $1")
            .bind(iban.electronic())
            .fetch_optional(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to find an account by IBAN")?;
        Ok(id.map(AccountId))
    }

    async fn get_transaction(&self, id: TransactionId) -> Result<Transaction, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        fetch_transaction::<E>(&mut conn, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Lists transactions newest first (by id, a UUIDv7), before the `before` cursor.
    async fn list_transactions(
        &self,
        filter: &TransactionFilter,
        before: Option<TransactionId>,
        limit: u32,
    ) -> Result<Vec<Transaction>, StoreError> {
        let mut query = QueryBuilder::<E::Db>::new(concat!(
            "SELECT ",
            transaction_columns!(),
            " FROM transactions WHERE 1 = 1"
        ));
        if let Some(account) = filter.account_id {
            query
                .push(" AND (source_account_id = ")
                .push_bind(account.0)
                .push(" OR destination_account_id = ")
                .push_bind(account.0)
                .push(")");
        }
        if let Some(transaction_type) = filter.transaction_type {
            query
                .push(" AND type = ")
                .push_bind(transaction_type.as_str());
        }
        if let Some(from) = filter.from {
            query
                .push(" AND created_at >= ")
                .push_bind(E::instant(from)?);
        }
        if let Some(to) = filter.to {
            query.push(" AND created_at < ").push_bind(E::instant(to)?);
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before.0);
        }
        query
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let mut conn = self.engine.acquire_read().await?;
        let rows: Vec<TransactionRow> = query
            .build_query_as()
            .fetch_all(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to list transactions")?;
        with_postings::<E>(&mut conn, rows).await
    }

    async fn get_hold(&self, id: HoldId) -> Result<Hold, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        fetch_hold::<E>(&mut conn, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Active holds whose expiry has come (a hold reserves nothing from its expiry instant
    /// on), oldest expiry first.
    async fn expired_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<HoldId>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM holds WHERE status = 'ACTIVE' AND expires_at <= $1 \
             ORDER BY expires_at, id LIMIT $2",
        )
        .bind(E::instant(now)?)
        .bind(i64::from(limit))
        .fetch_all(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read expired holds")?;
        Ok(ids.into_iter().map(HoldId).collect())
    }

    /// What an account's active, unexpired holds reserve.
    async fn pending_holds_minor(
        &self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM holds \
             WHERE account_id = $1 AND status = 'ACTIVE' AND expires_at > $2",
        )
        .bind(account.0)
        .bind(E::instant(now)?)
        .fetch_one(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to sum pending holds")
    }

    async fn statement_lines(
        &self,
        account: AccountId,
        filter: &StatementFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StatementLine>, StoreError> {
        statements::lines(&self.engine, account, filter, after, limit).await
    }

    async fn balance_before(
        &self,
        account: AccountId,
        instant: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        statements::balance_before(&self.engine, account, instant).await
    }

    async fn statement_totals(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<StatementTotals, StoreError> {
        statements::totals(&self.engine, account, from, to).await
    }
}
