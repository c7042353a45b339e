//! The audit log's reads: events in sequence order, and the totals and live state a replay is
//! checked against, each from one snapshot.

use std::collections::BTreeMap;

use coffre_app::ports::{
    AccountSnapshot, AuditLog, CurrencyTotals, EventFilter, LiveState, StoreError,
};
use coffre_domain::events::{ChainHead, EventRecord};
use coffre_domain::ledger::InternalAccount;
use coffre_domain::{AccountId, AccountStatus, Currency};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};
use uuid::Uuid;

use crate::engine::{Engine, StoreContext};
use crate::ledger_rows::{ChainHeadRow, EventRow, InternalAccountRow};
use crate::rows::convert_all;
use crate::store::SqlStore;

/// Every internal account's balance, in id order.
async fn internal_balances<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
) -> Result<Vec<(InternalAccount, i64)>, StoreError>
where
    InternalAccountRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let rows: Vec<InternalAccountRow> = sqlx::query_as(
        "SELECT id, kind, currency, balance_minor FROM internal_accounts ORDER BY id",
    )
    .fetch_all(E::conn(conn))
    .await
    .store_context::<E>("failed to read internal accounts")?;
    convert_all(rows)
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

/// The accounts' statuses, stored as text, read back.
fn account_snapshots(rows: Vec<(Uuid, String, i64)>) -> Result<Vec<AccountSnapshot>, StoreError> {
    rows.into_iter()
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
        .collect()
}

impl<E: Engine> AuditLog for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    EventRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    InternalAccountRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    ChainHeadRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    (String, i64): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    (Uuid, String, i64): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Events after the `after` sequence, in sequence order, filtered.
    async fn events(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let mut query = QueryBuilder::<E::Db>::new(
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
        let mut conn = self.engine.acquire_read().await?;
        let rows: Vec<EventRow> = query
            .build_query_as()
            .fetch_all(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to read events")?;
        convert_all(rows)
    }

    /// Per currency, the customer accounts' total and each internal account's balance, from
    /// one snapshot (so that they add up as they did at one instant).
    async fn trial_balance(&self) -> Result<Vec<CurrencyTotals>, StoreError> {
        let mut tx = self.engine.begin_snapshot().await?;
        let sums: Vec<(String, i64)> = sqlx::query_as(
            "SELECT currency, CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT) FROM accounts \
             GROUP BY currency",
        )
        .fetch_all(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to sum customer accounts")?;
        let internal = internal_balances::<E>(&mut tx).await?;
        tx.commit()
            .await
            .store_context::<E>("failed to end the trial balance")?;
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

    /// Every account's status and balance, every internal balance, and the last event
    /// sequence, from one snapshot: the log up to that sequence must replay to exactly this.
    async fn live_state(&self) -> Result<LiveState, StoreError> {
        let mut tx = self.engine.begin_snapshot().await?;
        let rows: Vec<(Uuid, String, i64)> =
            sqlx::query_as("SELECT id, status, balance_minor FROM accounts ORDER BY id")
                .fetch_all(E::conn(&mut tx))
                .await
                .store_context::<E>("failed to read accounts")?;
        let internal_accounts = internal_balances::<E>(&mut tx).await?;
        let last_sequence: i64 =
            sqlx::query_scalar("SELECT last_sequence FROM event_chain_head WHERE id = 1")
                .fetch_one(E::conn(&mut tx))
                .await
                .store_context::<E>("failed to read the event chain head")?;
        tx.commit()
            .await
            .store_context::<E>("failed to end the live state read")?;
        Ok(LiveState {
            accounts: account_snapshots(rows)?,
            internal_accounts,
            last_sequence,
        })
    }

    /// The chain head as committed now.
    async fn chain_head(&self) -> Result<ChainHead, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let row: ChainHeadRow =
            sqlx::query_as("SELECT last_sequence, last_hash FROM event_chain_head WHERE id = 1")
                .fetch_one(E::conn(&mut conn))
                .await
                .store_context::<E>("failed to read the event chain head")?;
        ChainHead::try_from(row)
    }
}
