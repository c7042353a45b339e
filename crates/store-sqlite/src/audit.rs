//! Reads of the event log and of the ledger's totals, each from one read transaction (one
//! snapshot of the WAL).

use std::str::FromStr;

use coffre_app::ports::{
    AccountSnapshot, AuditLog, CurrencyTotals, EventFilter, LiveState, StoreError,
};
use coffre_domain::events::{ChainHead, EventRecord};
use coffre_domain::ledger::InternalAccount;
use coffre_domain::{AccountId, AccountStatus, Currency};
use coffre_store_sql::ledger_rows::{ChainHeadRow, EventRow, InternalAccountRow};
use coffre_store_sql::rows::convert_all;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use uuid::Uuid;

use crate::SqliteEngine;
use crate::error::StoreContext;

/// Events in sequence order after `after`, filtered.
pub(crate) async fn events(
    read: &SqlitePool,
    filter: &EventFilter,
    after: i64,
    limit: u32,
) -> Result<Vec<EventRecord>, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT sequence, stream_id, stream_version, event_type, payload, actor, occurred_at, \
         prev_hash, hash FROM events WHERE sequence > ",
    );
    query.push_bind(after);
    if let Some(stream_id) = filter.stream_id {
        query.push(" AND stream_id = ").push_bind(stream_id);
    }
    if let Some(event_type) = &filter.event_type {
        query
            .push(" AND event_type = ")
            .push_bind(event_type.as_str());
    }
    query
        .push(" ORDER BY sequence LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<EventRow> = query
        .build_query_as()
        .fetch_all(read)
        .await
        .store_context("failed to read events")?;
    convert_all(rows)
}

/// Every internal account and its balance, in id order.
async fn internal_balances(
    conn: &mut SqliteConnection,
) -> Result<Vec<(InternalAccount, i64)>, StoreError> {
    let rows: Vec<InternalAccountRow> = sqlx::query_as(
        "SELECT id, kind, currency, balance_minor FROM internal_accounts ORDER BY id",
    )
    .fetch_all(conn)
    .await
    .store_context("failed to read internal accounts")?;
    convert_all(rows)
}

/// Per currency: the sum of customer balances and each internal account's balance.
pub(crate) async fn trial_balance(read: &SqlitePool) -> Result<Vec<CurrencyTotals>, StoreError> {
    let mut tx = read
        .begin()
        .await
        .store_context("failed to begin trial balance")?;
    let sums: Vec<(String, i64)> =
        sqlx::query_as("SELECT currency, SUM(balance_minor) FROM accounts GROUP BY currency")
            .fetch_all(&mut *tx)
            .await
            .store_context("failed to sum account balances")?;
    let internal = internal_balances(&mut tx).await?;
    tx.commit()
        .await
        .store_context("failed to end trial balance")?;
    let mut totals = Vec::new();
    for currency in Currency::ALL {
        let mut customer_accounts_minor = 0;
        for (code, sum) in &sums {
            let stored = Currency::from_str(code).map_err(|_| {
                StoreError::Unknown(anyhow::anyhow!("accounts hold an invalid currency {code}"))
            })?;
            if stored == currency {
                customer_accounts_minor = *sum;
            }
        }
        totals.push(CurrencyTotals {
            currency,
            customer_accounts_minor,
            internal_accounts: internal
                .iter()
                .filter(|(account, _)| account.currency == currency)
                .copied()
                .collect(),
        });
    }
    Ok(totals)
}

/// Every account's status and balance, every internal balance, and the last event sequence,
/// from one snapshot.
pub(crate) async fn live_state(read: &SqlitePool) -> Result<LiveState, StoreError> {
    let mut tx = read
        .begin()
        .await
        .store_context("failed to begin live state read")?;
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
        .store_context("failed to end live state read")?;
    let accounts: Vec<AccountSnapshot> = rows
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
pub(crate) async fn chain_head(read: &SqlitePool) -> Result<ChainHead, StoreError> {
    let row: ChainHeadRow =
        sqlx::query_as("SELECT last_sequence, last_hash FROM event_chain_head WHERE id = 1")
            .fetch_one(read)
            .await
            .store_context("failed to read the event chain head")?;
    ChainHead::try_from(row)
}

impl AuditLog for SqliteEngine {
    async fn events(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EventRecord>, StoreError> {
        events(&self.read, filter, after, limit).await
    }

    async fn trial_balance(&self) -> Result<Vec<CurrencyTotals>, StoreError> {
        trial_balance(&self.read).await
    }

    async fn live_state(&self) -> Result<LiveState, StoreError> {
        live_state(&self.read).await
    }

    async fn chain_head(&self) -> Result<ChainHead, StoreError> {
        chain_head(&self.read).await
    }
}
