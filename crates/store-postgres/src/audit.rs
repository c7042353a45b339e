//! The audit log's reads: events in sequence order, and the totals and live state a replay is
//! checked against, each from one snapshot.

use std::collections::BTreeMap;

use coffre_app::ports::{
    AccountSnapshot, AuditLog, CurrencyTotals, EventFilter, LiveState, StoreError,
};
use coffre_domain::events::{ChainHead, EventRecord};
use coffre_domain::ledger::InternalAccount;
use coffre_domain::{AccountId, AccountStatus, Currency};
use coffre_store_sql::ledger_rows::{ChainHeadRow, EventRow, InternalAccountRow};
use coffre_store_sql::rows::convert_all;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::PostgresEngine;
use crate::error::StoreContext;

/// Events after the `after` sequence, in sequence order, filtered.
pub(crate) async fn events(
    pool: &PgPool,
    filter: &EventFilter,
    after: i64,
    limit: u32,
) -> Result<Vec<EventRecord>, StoreError> {
    let mut query = QueryBuilder::<Postgres>::new(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE sequence > "
    ));
    query.push_bind(after);
    if let Some(stream_id) = filter.stream_id {
        query.push(" AND stream_id = ").push_bind(stream_id);
    }
    if let Some(event_type) = &filter.event_type {
        query
            .push(" AND event_type = ")
            .push_bind(event_type.clone());
    }
    query
        .push(" ORDER BY sequence LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<EventRow> = query
        .build_query_as()
        .fetch_all(pool)
        .await
        .store_context("failed to read events")?;
    convert_all(rows)
}

/// Every internal account's balance, in id order.
async fn internal_balances(
    conn: &mut PgConnection,
) -> Result<Vec<(InternalAccount, i64)>, StoreError> {
    let rows: Vec<InternalAccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        internal_account_columns!(),
        " FROM internal_accounts ORDER BY id"
    ))
    .fetch_all(conn)
    .await
    .store_context("failed to read internal accounts")?;
    convert_all(rows)
}

/// Per currency, the customer accounts' total and each internal account's balance, from one
/// `REPEATABLE READ` snapshot (so that they add up as they did at one instant).
pub(crate) async fn trial_balance(pool: &PgPool) -> Result<Vec<CurrencyTotals>, StoreError> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .store_context("failed to begin the trial balance")?;
    let sums: Vec<(String, i64)> = sqlx::query_as(
        "SELECT currency, COALESCE(SUM(balance_minor), 0)::bigint FROM accounts GROUP BY currency",
    )
    .fetch_all(&mut *tx)
    .await
    .store_context("failed to sum customer accounts")?;
    let internal = internal_balances(&mut tx).await?;
    tx.commit()
        .await
        .store_context("failed to end the trial balance")?;
    let mut totals: BTreeMap<Currency, CurrencyTotals> = BTreeMap::new();
    for (code, sum) in sums {
        let currency: Currency = code.parse().map_err(|_| {
            StoreError::Unknown(anyhow::anyhow!("accounts hold an invalid currency {code}"))
        })?;
        totals_of(&mut totals, currency).customer_accounts_minor = sum;
    }
    for (account, balance) in internal {
        totals_of(&mut totals, account.currency)
            .internal_accounts
            .push((account, balance));
    }
    Ok(totals.into_values().collect())
}

/// The totals of a currency, started at zero.
fn totals_of(
    totals: &mut BTreeMap<Currency, CurrencyTotals>,
    currency: Currency,
) -> &mut CurrencyTotals {
    totals.entry(currency).or_insert_with(|| CurrencyTotals {
        currency,
        customer_accounts_minor: 0,
        internal_accounts: Vec::new(),
    })
}

/// Every account's status and balance, every internal balance, and the last event sequence,
/// from one `REPEATABLE READ` snapshot: the log up to that sequence must replay to exactly
/// this.
pub(crate) async fn live_state(pool: &PgPool) -> Result<LiveState, StoreError> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .store_context("failed to begin the live state read")?;
    let rows: Vec<(Uuid, String, i64)> =
        sqlx::query_as("SELECT id, status, balance_minor FROM accounts ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .store_context("failed to read accounts")?;
    let internal_accounts = internal_balances(&mut tx).await?;
    let last_sequence: i64 =
        sqlx::query_scalar("SELECT last_sequence FROM event_chain_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .store_context("failed to read the event chain head")?;
    tx.commit()
        .await
        .store_context("failed to end the live state read")?;
    let accounts = rows
        .into_iter()
        .map(|(id, status, balance_minor)| {
            let status = AccountStatus::parse(&status).ok_or_else(|| {
                StoreError::Unknown(anyhow::anyhow!("accounts row {id} has an invalid status"))
            })?;
            Ok(AccountSnapshot {
                id: AccountId(id),
                status,
                balance_minor,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(LiveState {
        accounts,
        internal_accounts,
        last_sequence,
    })
}

/// The chain head as committed now.
pub(crate) async fn chain_head(pool: &PgPool) -> Result<ChainHead, StoreError> {
    let row: ChainHeadRow =
        sqlx::query_as("SELECT last_sequence, last_hash FROM event_chain_head WHERE id = 1")
            .fetch_one(pool)
            .await
            .store_context("failed to read the event chain head")?;
    ChainHead::try_from(row)
}

impl AuditLog for PostgresEngine {
    async fn events(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EventRecord>, StoreError> {
        events(&self.pool, filter, after, limit).await
    }

    async fn trial_balance(&self) -> Result<Vec<CurrencyTotals>, StoreError> {
        trial_balance(&self.pool).await
    }

    async fn live_state(&self) -> Result<LiveState, StoreError> {
        live_state(&self.pool).await
    }

    async fn chain_head(&self) -> Result<ChainHead, StoreError> {
        chain_head(&self.pool).await
    }
}
