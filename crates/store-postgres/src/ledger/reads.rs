//! The ledger's reads: transactions, holds, statements.

use coffre_app::ports::{
    StatementFilter, StatementLine, StatementTotals, StoreError, TransactionFilter,
};
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use coffre_domain::{AccountId, Iban};
use coffre_store_sql::ledger_rows::{
    HoldRow, PostingRow, StatementLineRow, TransactionRow, transactions_from_rows,
};
use coffre_store_sql::rows::convert_all;
use coffre_store_sql::writes::stored_instant;
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;

/// Reads transactions with their postings; a transaction's postings are inserted with it, so
/// a second read sees them all.
async fn with_postings(
    pool: &PgPool,
    rows: Vec<TransactionRow>,
) -> Result<Vec<Transaction>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(TransactionRow::id).collect();
    let postings: Vec<PostingRow> = sqlx::query_as(concat!(
        "SELECT ",
        posting_columns!(),
        " FROM postings WHERE transaction_id = ANY($1) ORDER BY transaction_id, line"
    ))
    .bind(&ids)
    .fetch_all(pool)
    .await
    .store_context("failed to read postings")?;
    transactions_from_rows(rows, postings)
}

/// The id of the account with this IBAN, if any (IBANs are unique, whatever the status).
pub(crate) async fn account_id_by_iban(
    pool: &PgPool,
    iban: &Iban,
) -> Result<Option<AccountId>, StoreError> {
    let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM accounts WHERE iban = $1")
        .bind(iban.electronic())
        .fetch_optional(pool)
        .await
        .store_context("failed to find an account by IBAN")?;
    Ok(id.map(AccountId))
}

/// Reads a transaction with its postings.
pub(crate) async fn get_transaction(
    pool: &PgPool,
    id: TransactionId,
) -> Result<Transaction, StoreError> {
    let row: Option<TransactionRow> = sqlx::query_as(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .store_context("failed to read a transaction")?;
    let row = row.ok_or(StoreError::NotFound)?;
    with_postings(pool, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Lists transactions newest first (by id, a UUIDv7), before the `before` cursor.
pub(crate) async fn list_transactions(
    pool: &PgPool,
    filter: &TransactionFilter,
    before: Option<TransactionId>,
    limit: u32,
) -> Result<Vec<Transaction>, StoreError> {
    let mut query = QueryBuilder::<Postgres>::new(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE TRUE"
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
            .push_bind(stored_instant(from));
    }
    if let Some(to) = filter.to {
        query
            .push(" AND created_at < ")
            .push_bind(stored_instant(to));
    }
    if let Some(before) = before {
        query.push(" AND id < ").push_bind(before.0);
    }
    query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<TransactionRow> = query
        .build_query_as()
        .fetch_all(pool)
        .await
        .store_context("failed to list transactions")?;
    with_postings(pool, rows).await
}

/// Reads a hold.
pub(crate) async fn get_hold(pool: &PgPool, id: HoldId) -> Result<Hold, StoreError> {
    let row: Option<HoldRow> = sqlx::query_as(concat!(
        "SELECT ",
        hold_columns!(),
        " FROM holds WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .store_context("failed to read a hold")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Active holds whose expiry has come (a hold reserves nothing from its expiry instant on),
/// oldest expiry first.
pub(crate) async fn expired_holds(
    pool: &PgPool,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<HoldId>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM holds WHERE status = 'ACTIVE' AND expires_at <= $1 \
         ORDER BY expires_at, id LIMIT $2",
    )
    .bind(stored_instant(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .store_context("failed to read expired holds")?;
    Ok(ids.into_iter().map(HoldId).collect())
}

/// What an account's active, unexpired holds reserve.
pub(crate) async fn pending_holds_minor(
    pool: &PgPool,
    account: AccountId,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount_minor), 0)::bigint FROM holds \
         WHERE account_id = $1 AND status = 'ACTIVE' AND expires_at > $2",
    )
    .bind(account.0)
    .bind(stored_instant(now))
    .fetch_one(pool)
    .await
    .store_context("failed to sum pending holds")
}

/// An account's statement lines in booking order (`entry_id`), after the cursor.
pub(crate) async fn statement_lines(
    pool: &PgPool,
    account: AccountId,
    filter: &StatementFilter,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StatementLine>, StoreError> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT p.entry_id, p.transaction_id, t.type, t.label, p.direction, p.amount_minor, p.currency, \
         p.balance_after_minor, p.booked_at FROM postings p JOIN transactions t ON t.id = p.transaction_id \
         WHERE p.account_id = ",
    );
    query.push_bind(account.0);
    if let Some(after) = after {
        query.push(" AND p.entry_id > ").push_bind(after);
    }
    if let Some(from) = filter.from {
        query
            .push(" AND p.booked_at >= ")
            .push_bind(stored_instant(from));
    }
    if let Some(to) = filter.to {
        query
            .push(" AND p.booked_at < ")
            .push_bind(stored_instant(to));
    }
    if let Some(transaction_type) = filter.transaction_type {
        query
            .push(" AND t.type = ")
            .push_bind(transaction_type.as_str());
    }
    query
        .push(" ORDER BY p.entry_id LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<StatementLineRow> = query
        .build_query_as()
        .fetch_all(pool)
        .await
        .store_context("failed to read statement lines")?;
    convert_all(rows)
}

/// The account's balance after its last posting booked before `instant`, or zero.
pub(crate) async fn balance_before(
    pool: &PgPool,
    account: AccountId,
    instant: OffsetDateTime,
) -> Result<i64, StoreError> {
    let balance: Option<i64> = sqlx::query_scalar(
        "SELECT balance_after_minor FROM postings WHERE account_id = $1 AND booked_at < $2 \
         ORDER BY entry_id DESC LIMIT 1",
    )
    .bind(account.0)
    .bind(stored_instant(instant))
    .fetch_optional(pool)
    .await
    .store_context("failed to read the balance before an instant")?;
    Ok(balance.unwrap_or(0))
}

/// The count, debit and credit sums and last `entry_id` of the lines booked in `[from, to)`.
pub(crate) async fn statement_totals(
    pool: &PgPool,
    account: AccountId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<StatementTotals, StoreError> {
    let (lines, debits_minor, credits_minor, last_entry_id): (i64, i64, i64, Option<i64>) =
        sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN direction = 'DEBIT' THEN amount_minor END), 0)::BIGINT, \
             COALESCE(SUM(CASE WHEN direction = 'CREDIT' THEN amount_minor END), 0)::BIGINT, \
             MAX(entry_id) \
             FROM postings WHERE account_id = $1 AND booked_at >= $2 AND booked_at < $3",
        )
        .bind(account.0)
        .bind(stored_instant(from))
        .bind(stored_instant(to))
        .fetch_one(pool)
        .await
        .store_context("failed to read a statement's totals")?;
    Ok(StatementTotals {
        lines: u64::try_from(lines).unwrap_or_default(),
        debits_minor,
        credits_minor,
        last_entry_id,
    })
}
