//! Writing what a batch changed, in the order the foreign keys need (see
//! [`LedgerDiff`]): accounts, internal balances, new transactions with their postings, changed
//! transactions, new holds, changed holds.

use coffre_app::ports::StoreError;
use coffre_domain::ledger::{Hold, InternalAccount, LedgerState, Transaction};
use coffre_store_sql::ledger_plan::LedgerDiff;
use coffre_store_sql::writes::check_updated_under_lock;
use sqlx::PgConnection;

use crate::accounts;
use crate::error::StoreContext;

/// Writes the diff between the locked state and the state after `apply`.
pub(super) async fn write_diff(
    conn: &mut PgConnection,
    before: &LedgerState,
    diff: &LedgerDiff,
) -> Result<(), StoreError> {
    for update in &diff.accounts {
        accounts::write_update(conn, update).await?;
    }
    for (account, balance) in &diff.internal {
        write_internal(conn, before, *account, *balance).await?;
    }
    for transaction in &diff.new_transactions {
        insert_transaction(conn, transaction).await?;
    }
    for transaction in &diff.changed_transactions {
        update_transaction(conn, transaction).await?;
    }
    for hold in &diff.new_holds {
        insert_hold(conn, hold).await?;
    }
    for hold in &diff.changed_holds {
        update_hold(conn, hold).await?;
    }
    Ok(())
}

/// Writes an internal account's new balance. Only a locked (so loaded) one may change: the
/// ledger touching another is a bug, and writing it would skip the lock order.
async fn write_internal(
    conn: &mut PgConnection,
    before: &LedgerState,
    account: InternalAccount,
    balance: i64,
) -> Result<(), StoreError> {
    if !before.internal.contains_key(&account) {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "the ledger changed the internal account {account}, which was not locked"
        )));
    }
    let updated = sqlx::query("UPDATE internal_accounts SET balance_minor = $1 WHERE id = $2")
        .bind(balance)
        .bind(account.id())
        .execute(conn)
        .await
        .store_context("failed to update an internal account")?;
    check_updated_under_lock(updated.rows_affected(), "internal account", account)
}

/// Inserts a booked transaction and its postings, in posting order.
async fn insert_transaction(
    conn: &mut PgConnection,
    transaction: &Transaction,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO transactions (id, type, status, amount_minor, currency, source_account_id, \
         destination_account_id, counterparty_iban, label, reverses_id, reversed_by_id, hold_id, \
         created_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(transaction.id.0)
    .bind(transaction.transaction_type.as_str())
    .bind(transaction.status.as_str())
    .bind(transaction.amount.amount_minor())
    .bind(transaction.amount.currency().code())
    .bind(transaction.source.map(|id| id.0))
    .bind(transaction.destination.map(|id| id.0))
    .bind(transaction.counterparty_iban.as_ref().map(|iban| iban.electronic()))
    .bind(&transaction.label)
    .bind(transaction.reverses.map(|id| id.0))
    .bind(transaction.reversed_by.map(|id| id.0))
    .bind(transaction.hold.map(|id| id.0))
    .bind(transaction.created_at)
    .bind(transaction.completed_at)
    .execute(&mut *conn)
    .await
    .store_context("failed to insert a transaction")?;
    let booked_at = transaction.completed_at.unwrap_or(transaction.created_at);
    for (line, posting) in transaction.postings.iter().enumerate() {
        let line = i32::try_from(line).map_err(|_| {
            StoreError::Unknown(anyhow::anyhow!(
                "transaction {} has too many postings",
                transaction.id
            ))
        })?;
        sqlx::query(
            "INSERT INTO postings (transaction_id, line, account_id, direction, amount_minor, currency, \
             balance_after_minor, booked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(transaction.id.0)
        .bind(line)
        .bind(posting.account.id())
        .bind(posting.direction.as_str())
        .bind(posting.amount.amount_minor())
        .bind(posting.amount.currency().code())
        .bind(posting.balance_after_minor)
        .bind(booked_at)
        .execute(&mut *conn)
        .await
        .store_context("failed to insert a posting")?;
    }
    Ok(())
}

/// Writes what can change on a booked transaction: its status and the reversal that undid it.
async fn update_transaction(
    conn: &mut PgConnection,
    transaction: &Transaction,
) -> Result<(), StoreError> {
    let updated =
        sqlx::query("UPDATE transactions SET status = $1, reversed_by_id = $2 WHERE id = $3")
            .bind(transaction.status.as_str())
            .bind(transaction.reversed_by.map(|id| id.0))
            .bind(transaction.id.0)
            .execute(conn)
            .await
            .store_context("failed to update a transaction")?;
    check_updated_under_lock(updated.rows_affected(), "transaction", transaction.id)
}

/// Inserts a new hold.
async fn insert_hold(conn: &mut PgConnection, hold: &Hold) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO holds (id, account_id, amount_minor, currency, status, expires_at, captured_minor, \
         capture_transaction_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(hold.id.0)
    .bind(hold.account_id.0)
    .bind(hold.amount.amount_minor())
    .bind(hold.amount.currency().code())
    .bind(hold.status.as_str())
    .bind(hold.expires_at)
    .bind(hold.captured_minor)
    .bind(hold.capture_transaction.map(|id| id.0))
    .bind(hold.created_at)
    .bind(hold.updated_at)
    .execute(conn)
    .await
    .store_context("failed to insert a hold")?;
    Ok(())
}

/// Writes what can change on a hold: its status, the capture, and when it changed.
async fn update_hold(conn: &mut PgConnection, hold: &Hold) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE holds SET status = $1, captured_minor = $2, capture_transaction_id = $3, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(hold.status.as_str())
    .bind(hold.captured_minor)
    .bind(hold.capture_transaction.map(|id| id.0))
    .bind(hold.updated_at)
    .bind(hold.id.0)
    .execute(conn)
    .await
    .store_context("failed to update a hold")?;
    check_updated_under_lock(updated.rows_affected(), "hold", hold.id)
}
