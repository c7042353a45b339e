//! An account's statement: its lines in booking order, the balance before a period, and a
//! period's totals.

use coffre_app::ports::{StatementFilter, StatementLine, StatementTotals, StoreError};
use coffre_domain::AccountId;
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::{Engine, StoreContext};
use crate::ledger_rows::StatementLineRow;
use crate::rows::convert_all;

/// An account's statement lines in booking order (`entry_id`), after the cursor.
pub(super) async fn lines<E: Engine>(
    engine: &E,
    account: AccountId,
    filter: &StatementFilter,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StatementLine>, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    StatementLineRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let mut query = QueryBuilder::<E::Db>::new(
        "SELECT p.entry_id, p.transaction_id, t.type, t.label, p.direction, p.amount_minor, \
         p.currency, p.balance_after_minor, p.booked_at \
         FROM postings p JOIN transactions t ON t.id = p.transaction_id WHERE p.account_id = ",
    );
    query.push_bind(account.0);
    if let Some(after) = after {
        query.push(" AND p.entry_id > ").push_bind(after);
    }
    if let Some(from) = filter.from {
        query
            .push(" AND p.booked_at >= ")
            .push_bind(E::instant(from)?);
    }
    if let Some(to) = filter.to {
        query.push(" AND p.booked_at < ").push_bind(E::instant(to)?);
    }
    if let Some(transaction_type) = filter.transaction_type {
        query
            .push(" AND t.type = ")
            .push_bind(transaction_type.as_str());
    }
    query
        .push(" ORDER BY p.entry_id LIMIT ")
        .push_bind(i64::from(limit));
    let mut conn = engine.acquire_read().await?;
    let rows: Vec<StatementLineRow> = query
        .build_query_as()
        .fetch_all(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read statement lines")?;
    convert_all(rows)
}

/// The account's balance after its last posting booked before `instant`, or zero.
pub(super) async fn balance_before<E: Engine>(
    engine: &E,
    account: AccountId,
    instant: OffsetDateTime,
) -> Result<i64, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (i64,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let mut conn = engine.acquire_read().await?;
    let balance: Option<i64> = sqlx::query_scalar(
        "SELECT balance_after_minor FROM postings WHERE account_id = $1 AND booked_at < $2 \
         ORDER BY entry_id DESC LIMIT 1",
    )
    .bind(account.0)
    .bind(E::instant(instant)?)
    .fetch_optional(E::conn(&mut conn))
    .await
    .store_context::<E>("failed to read the balance before an instant")?;
    Ok(balance.unwrap_or(0))
}

/// The count, debit and credit sums and last `entry_id` of the lines booked in `[from, to)`.
pub(super) async fn totals<E: Engine>(
    engine: &E,
    account: AccountId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<StatementTotals, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (i64, i64, i64, Option<i64>): for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let mut conn = engine.acquire_read().await?;
    let (lines, debits_minor, credits_minor, last_entry_id): (i64, i64, i64, Option<i64>) =
        sqlx::query_as(
            "SELECT COUNT(*), \
             CAST(COALESCE(SUM(CASE WHEN direction = 'DEBIT' THEN amount_minor END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN direction = 'CREDIT' THEN amount_minor END), 0) AS BIGINT), \
             MAX(entry_id) \
             FROM postings WHERE account_id = $1 AND booked_at >= $2 AND booked_at < $3",
        )
        .bind(account.0)
        .bind(E::instant(from)?)
        .bind(E::instant(to)?)
        .fetch_one(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read a statement's totals")?;
    Ok(StatementTotals {
        lines: u64::try_from(lines).unwrap_or_default(),
        debits_minor,
        credits_minor,
        last_entry_id,
    })
}
