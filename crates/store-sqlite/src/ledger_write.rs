//! What the engine writes: the diff of a batch, and idempotency records.

use coffre_app::ports::{
    BatchResults, IdempotencyClaim, LedgerOutcome, StoreError, StoredResponse,
};
use coffre_domain::ledger::{Hold, Transaction};
use coffre_store_sql::ledger_plan::LedgerDiff;
use coffre_store_sql::ledger_rows::IdempotencyRow;
use coffre_store_sql::writes::check_updated_under_lock;
use sqlx::SqliteConnection;
use time::OffsetDateTime;

use crate::accounts;
use crate::error::StoreContext;
use crate::instants::{instant_text, optional_instant_text};

/// The outcome for a key used before: the stored response for the same request, a refusal
/// for another; `None` for a new key. Takes the claim's parts, not the claim: its `respond`
/// closure is not `Sync`, so a reference to the claim would make the future not `Send`.
pub(crate) async fn replay(
    conn: &mut SqliteConnection,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Option<LedgerOutcome>, StoreError> {
    let row: Option<IdempotencyRow> = sqlx::query_as(
        "SELECT key, fingerprint, status_code, content_type, body FROM idempotency_keys \
         WHERE scope = ? AND key = ?",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(conn)
    .await
    .store_context("failed to read idempotency key")?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.fingerprint() == fingerprint {
        Ok(Some(LedgerOutcome::Replayed(StoredResponse::try_from(
            row,
        )?)))
    } else {
        Ok(Some(LedgerOutcome::KeyReused))
    }
}

/// Renders the batch's response and stores it under the claim's key.
pub(crate) async fn record_response(
    conn: &mut SqliteConnection,
    claim: IdempotencyClaim,
    results: &BatchResults,
    now: OffsetDateTime,
) -> Result<StoredResponse, StoreError> {
    let IdempotencyClaim {
        scope,
        key,
        fingerprint,
        expires_at,
        respond,
    } = claim;
    let response = respond(results);
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, content_type, body, \
         created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&scope)
    .bind(&key)
    .bind(&fingerprint)
    .bind(i32::from(response.status))
    .bind(&response.content_type)
    .bind(response.body.as_slice())
    .bind(instant_text(now)?)
    .bind(instant_text(expires_at)?)
    .execute(conn)
    .await
    .store_context("failed to record idempotency key")?;
    Ok(response)
}

/// Writes a batch's changes, in the order [`LedgerDiff`] documents.
pub(crate) async fn write_diff(
    conn: &mut SqliteConnection,
    diff: &LedgerDiff,
) -> Result<(), StoreError> {
    for update in &diff.accounts {
        accounts::write_update(conn, update.before_version, &update.after).await?;
    }
    for (account, balance) in &diff.internal {
        let updated = sqlx::query("UPDATE internal_accounts SET balance_minor = ? WHERE id = ?")
            .bind(balance)
            .bind(account.id())
            .execute(&mut *conn)
            .await
            .store_context("failed to update internal account")?;
        check_updated_under_lock(updated.rows_affected(), "internal account", account)?;
    }
    for transaction in &diff.new_transactions {
        insert_transaction(conn, transaction).await?;
    }
    for transaction in &diff.changed_transactions {
        let updated =
            sqlx::query("UPDATE transactions SET status = ?, reversed_by_id = ? WHERE id = ?")
                .bind(transaction.status.as_str())
                .bind(transaction.reversed_by.map(|id| id.0))
                .bind(transaction.id.0)
                .execute(&mut *conn)
                .await
                .store_context("failed to update transaction")?;
        check_updated_under_lock(updated.rows_affected(), "transaction", transaction.id)?;
    }
    for hold in &diff.new_holds {
        insert_hold(conn, hold).await?;
    }
    for hold in &diff.changed_holds {
        update_hold(conn, hold).await?;
    }
    Ok(())
}

/// Inserts a transaction and its postings (`line` = position; `entry_id` assigned in
/// booking order).
async fn insert_transaction(
    conn: &mut SqliteConnection,
    transaction: &Transaction,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO transactions (id, type, status, amount_minor, currency, source_account_id, \
         destination_account_id, counterparty_iban, label, reverses_id, reversed_by_id, hold_id, \
         created_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(transaction.id.0)
    .bind(transaction.transaction_type.as_str())
    .bind(transaction.status.as_str())
    .bind(transaction.amount.amount_minor())
    .bind(transaction.amount.currency().code())
    .bind(transaction.source.map(|id| id.0))
    .bind(transaction.destination.map(|id| id.0))
    .bind(
        transaction
            .counterparty_iban
            .as_ref()
            .map(|iban| iban.electronic()),
    )
    .bind(&transaction.label)
    .bind(transaction.reverses.map(|id| id.0))
    .bind(transaction.reversed_by.map(|id| id.0))
    .bind(transaction.hold.map(|id| id.0))
    .bind(instant_text(transaction.created_at)?)
    .bind(optional_instant_text(transaction.completed_at)?)
    .execute(&mut *conn)
    .await
    .store_context("failed to insert transaction")?;
    let booked_at = instant_text(transaction.completed_at.unwrap_or(transaction.created_at))?;
    for (line, posting) in transaction.postings.iter().enumerate() {
        let line = i64::try_from(line)
            .map_err(|_| StoreError::Unknown(anyhow::anyhow!("too many postings")))?;
        sqlx::query(
            "INSERT INTO postings (transaction_id, line, account_id, direction, amount_minor, \
             currency, balance_after_minor, booked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(transaction.id.0)
        .bind(line)
        .bind(posting.account.id())
        .bind(posting.direction.as_str())
        .bind(posting.amount.amount_minor())
        .bind(posting.amount.currency().code())
        .bind(posting.balance_after_minor)
        .bind(&booked_at)
        .execute(&mut *conn)
        .await
        .store_context("failed to insert posting")?;
    }
    Ok(())
}

/// Inserts a hold.
async fn insert_hold(conn: &mut SqliteConnection, hold: &Hold) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO holds (id, account_id, amount_minor, currency, status, expires_at, \
         captured_minor, capture_transaction_id, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(hold.id.0)
    .bind(hold.account_id.0)
    .bind(hold.amount.amount_minor())
    .bind(hold.amount.currency().code())
    .bind(hold.status.as_str())
    .bind(instant_text(hold.expires_at)?)
    .bind(hold.captured_minor)
    .bind(hold.capture_transaction.map(|id| id.0))
    .bind(instant_text(hold.created_at)?)
    .bind(instant_text(hold.updated_at)?)
    .execute(conn)
    .await
    .store_context("failed to insert hold")?;
    Ok(())
}

/// Writes what a capture, release or expiry changed on a hold.
async fn update_hold(conn: &mut SqliteConnection, hold: &Hold) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE holds SET status = ?, captured_minor = ?, capture_transaction_id = ?, \
         updated_at = ? WHERE id = ?",
    )
    .bind(hold.status.as_str())
    .bind(hold.captured_minor)
    .bind(hold.capture_transaction.map(|id| id.0))
    .bind(instant_text(hold.updated_at)?)
    .bind(hold.id.0)
    .execute(conn)
    .await
    .store_context("failed to update hold")?;
    check_updated_under_lock(updated.rows_affected(), "hold", hold.id)
}
