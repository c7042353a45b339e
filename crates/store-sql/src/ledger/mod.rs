//! The ledger port: the transaction engine, run by each engine its own way (see
//! [`LedgerEngine`]), and the reads of transactions, holds and statements, written once.

pub mod reads;
mod statements;

use std::future::Future;

use coffre_app::ports::{
    Ledger, LedgerBatch, LedgerOutcome, StatementFilter, StatementLine, StatementTotals,
    StoreError, TransactionFilter,
};
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use coffre_domain::{AccountId, Iban};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use self::reads::{fetch_hold, fetch_transaction, with_postings};
use crate::engine::{Engine, StoreContext};
use crate::ledger_rows::{HoldRow, PostingRow, StatementLineRow, TransactionRow};
use crate::store::SqlStore;

/// What an engine runs its own way in the ledger: a group of batches, in one transaction
/// (group commit), with set-based statements of its own SQL.
pub trait LedgerEngine: Engine {
    /// Runs a group of batches (see [`Ledger::execute`]).
    fn execute_group(
        &self,
        group: Vec<LedgerBatch>,
    ) -> impl Future<Output = Result<Vec<LedgerOutcome>, StoreError>> + Send;
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
    StatementLineRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    async fn execute(&self, group: Vec<LedgerBatch>) -> Result<Vec<LedgerOutcome>, StoreError> {
        self.engine.execute_group(group).await
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
