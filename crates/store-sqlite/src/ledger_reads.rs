//! The ledger's reads: transactions with their postings, holds, statements.

use coffre_app::ports::{
    StatementFilter, StatementLine, StatementTotals, StoreError, TransactionFilter,
};
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use coffre_domain::{AccountId, Iban};
use coffre_store_sql::ledger_rows::{
    HoldRow, PostingRow, StatementLineRow, TransactionRow, transaction_from_rows,
    transactions_from_rows,
};
use coffre_store_sql::rows::convert_all;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;
use crate::instants::instant_text;
use crate::multi_row::{MAX_BINDS, push_list};

/// The `transactions` columns a [`TransactionRow`] reads, as a literal for `concat!`.
macro_rules! transaction_columns {
    () => {
        "id, type, status, amount_minor, currency, source_account_id, destination_account_id, \
         counterparty_iban, label, reverses_id, reversed_by_id, hold_id, created_at, completed_at"
    };
}

/// The `postings` columns a [`PostingRow`] reads.
const POSTING_COLUMNS: &str =
    "entry_id, transaction_id, account_id, direction, amount_minor, currency, balance_after_minor";

/// The `holds` columns a [`HoldRow`] reads, as a literal for `concat!`.
macro_rules! hold_columns {
    () => {
        "id, account_id, amount_minor, currency, status, expires_at, captured_minor, \
         capture_transaction_id, created_at, updated_at"
    };
}

/// Reads a transaction with its postings, if it exists.
pub(crate) async fn fetch_transaction(
    conn: &mut SqliteConnection,
    id: TransactionId,
) -> Result<Option<Transaction>, StoreError> {
    let row: Option<TransactionRow> = sqlx::query_as(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .store_context("failed to read transaction")?;
    let Some(row) = row else {
        return Ok(None);
    };
    let postings: Vec<PostingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POSTING_COLUMNS} FROM postings WHERE transaction_id = ? ORDER BY line"
    )))
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await
    .store_context("failed to read postings")?;
    transaction_from_rows(row, postings).map(Some)
}

/// Reads a hold, if it exists.
pub(crate) async fn fetch_hold(
    conn: &mut SqliteConnection,
    id: HoldId,
) -> Result<Option<Hold>, StoreError> {
    let row: Option<HoldRow> = sqlx::query_as(concat!(
        "SELECT ",
        hold_columns!(),
        " FROM holds WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await
    .store_context("failed to read hold")?;
    row.map(Hold::try_from).transpose()
}

/// The active holds of the accounts.
pub(crate) async fn fetch_active_holds(
    conn: &mut SqliteConnection,
    accounts: &[Uuid],
) -> Result<Vec<Hold>, StoreError> {
    let mut holds = Vec::new();
    for chunk in accounts.chunks(MAX_BINDS) {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            hold_columns!(),
            " FROM holds WHERE status = 'ACTIVE' AND account_id IN ("
        ));
        push_list(&mut query, chunk.iter().copied());
        query.push(")");
        let rows: Vec<HoldRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .store_context("failed to read active holds")?;
        holds.extend(convert_all::<_, Hold>(rows)?);
    }
    Ok(holds)
}

/// The id of the account with this IBAN, if any.
pub(crate) async fn account_id_by_iban(
    read: &SqlitePool,
    iban: &Iban,
) -> Result<Option<AccountId>, StoreError> {
    let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM accounts WHERE iban = ?")
        .bind(iban.electronic())
        .fetch_optional(read)
        .await
        .store_context("failed to find an account by IBAN")?;
    Ok(id.map(AccountId))
}

/// Reads a transaction.
pub(crate) async fn get_transaction(
    read: &SqlitePool,
    id: TransactionId,
) -> Result<Transaction, StoreError> {
    let mut tx = read
        .begin()
        .await
        .store_context("failed to begin transaction read")?;
    let transaction = fetch_transaction(&mut tx, id).await?;
    tx.commit()
        .await
        .store_context("failed to end transaction read")?;
    transaction.ok_or(StoreError::NotFound)
}

/// Appends the transaction filter's and cursor's `WHERE` clause.
fn push_transaction_filter(
    query: &mut QueryBuilder<Sqlite>,
    filter: &TransactionFilter,
    before: Option<TransactionId>,
) -> Result<(), StoreError> {
    query.push(" WHERE 1 = 1");
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
            .push_bind(instant_text(from)?);
    }
    if let Some(to) = filter.to {
        query
            .push(" AND created_at < ")
            .push_bind(instant_text(to)?);
    }
    if let Some(before) = before {
        query.push(" AND id < ").push_bind(before.0);
    }
    Ok(())
}

/// Lists transactions newest first (UUIDv7 ids order them by creation), from one snapshot.
pub(crate) async fn list_transactions(
    read: &SqlitePool,
    filter: &TransactionFilter,
    before: Option<TransactionId>,
    limit: u32,
) -> Result<Vec<Transaction>, StoreError> {
    let mut tx = read
        .begin()
        .await
        .store_context("failed to begin transaction list")?;
    let mut select = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions"
    ));
    push_transaction_filter(&mut select, filter, before)?;
    select
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<TransactionRow> = select
        .build_query_as()
        .fetch_all(&mut *tx)
        .await
        .store_context("failed to list transactions")?;
    let mut postings = Vec::new();
    if !rows.is_empty() {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {POSTING_COLUMNS} FROM postings WHERE transaction_id IN ("
        ));
        let mut ids = query.separated(", ");
        for row in &rows {
            ids.push_bind(row.id());
        }
        query.push(") ORDER BY transaction_id, line");
        postings = query
            .build_query_as::<PostingRow>()
            .fetch_all(&mut *tx)
            .await
            .store_context("failed to read postings")?;
    }
    tx.commit()
        .await
        .store_context("failed to end transaction list")?;
    transactions_from_rows(rows, postings)
}

/// Reads a hold.
pub(crate) async fn get_hold(read: &SqlitePool, id: HoldId) -> Result<Hold, StoreError> {
    let mut conn = read
        .acquire()
        .await
        .store_context("failed to acquire a connection")?;
    fetch_hold(&mut conn, id).await?.ok_or(StoreError::NotFound)
}

/// The active holds that reached their expiry at `now`, soonest expired first.
pub(crate) async fn expired_holds(
    read: &SqlitePool,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<HoldId>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM holds WHERE status = 'ACTIVE' AND expires_at <= ? \
         ORDER BY expires_at, id LIMIT ?",
    )
    .bind(instant_text(now)?)
    .bind(i64::from(limit))
    .fetch_all(read)
    .await
    .store_context("failed to read expired holds")?;
    Ok(ids.into_iter().map(HoldId).collect())
}

/// What the account's pending holds reserve at `now`.
pub(crate) async fn pending_holds_minor(
    read: &SqlitePool,
    account: AccountId,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM holds \
         WHERE account_id = ? AND status = 'ACTIVE' AND expires_at > ?",
    )
    .bind(account.0)
    .bind(instant_text(now)?)
    .fetch_one(read)
    .await
    .store_context("failed to sum pending holds")
}

/// An account's statement lines in booking order, after the cursor.
pub(crate) async fn statement_lines(
    read: &SqlitePool,
    account: AccountId,
    filter: &StatementFilter,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StatementLine>, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(
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
            .push_bind(instant_text(from)?);
    }
    if let Some(to) = filter.to {
        query
            .push(" AND p.booked_at < ")
            .push_bind(instant_text(to)?);
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
        .fetch_all(read)
        .await
        .store_context("failed to read statement lines")?;
    convert_all(rows)
}

/// The balance after the account's last posting booked before `instant`, or zero.
pub(crate) async fn balance_before(
    read: &SqlitePool,
    account: AccountId,
    instant: OffsetDateTime,
) -> Result<i64, StoreError> {
    let balance: Option<i64> = sqlx::query_scalar(
        "SELECT balance_after_minor FROM postings WHERE account_id = ? AND booked_at < ? \
         ORDER BY entry_id DESC LIMIT 1",
    )
    .bind(account.0)
    .bind(instant_text(instant)?)
    .fetch_optional(read)
    .await
    .store_context("failed to read the balance before an instant")?;
    Ok(balance.unwrap_or(0))
}

/// The count, debit and credit sums and last `entry_id` of the lines booked in `[from, to)`.
pub(crate) async fn statement_totals(
    read: &SqlitePool,
    account: AccountId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<StatementTotals, StoreError> {
    let (lines, debits_minor, credits_minor, last_entry_id): (i64, i64, i64, Option<i64>) =
        sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN direction = 'DEBIT' THEN amount_minor END), 0), \
             COALESCE(SUM(CASE WHEN direction = 'CREDIT' THEN amount_minor END), 0), \
             MAX(entry_id) \
             FROM postings WHERE account_id = ? AND booked_at >= ? AND booked_at < ?",
        )
        .bind(account.0)
        .bind(instant_text(from)?)
        .bind(instant_text(to)?)
        .fetch_one(read)
        .await
        .store_context("failed to read a statement's totals")?;
    Ok(StatementTotals {
        lines: u64::try_from(lines).unwrap_or_default(),
        debits_minor,
        credits_minor,
        last_entry_id,
    })
}
