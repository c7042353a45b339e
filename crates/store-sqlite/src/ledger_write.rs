//! What the engine reads and writes around a group: idempotency records, and the diff.

use std::collections::HashMap;

use coffre_app::ports::{LedgerOutcome, StoreError};
use coffre_domain::ledger::{Hold, Transaction};
use coffre_store_sql::ledger_group::{Claim, Member, Record, earlier_outcome};
use coffre_store_sql::ledger_plan::{AccountUpdate, LedgerDiff};
use coffre_store_sql::ledger_rows::IdempotencyRow;
use coffre_store_sql::writes::check_updated_under_lock;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use time::OffsetDateTime;

use crate::error::StoreContext;
use crate::instants::{instant_text, optional_instant_text};
use crate::multi_row::MAX_BINDS;

/// For each member, the outcome of an earlier request with its key (its response to replay,
/// or a refusal for another request), or `None` when the member runs now.
pub(crate) async fn claim_keys(
    conn: &mut SqliteConnection,
    members: &[Member],
) -> Result<Vec<Option<LedgerOutcome>>, StoreError> {
    let claims: Vec<&Claim> = members.iter().filter_map(|m| m.claim.as_ref()).collect();
    let mut stored = HashMap::new();
    for chunk in claims.chunks(MAX_BINDS / 2) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT scope, key, fingerprint, status_code, content_type, body \
             FROM idempotency_keys WHERE (scope, key) IN (",
        );
        query.push_values(chunk, |mut row, claim| {
            row.push_bind(claim.scope.as_str())
                .push_bind(claim.key.as_str());
        });
        query.push(")");
        let rows: Vec<IdempotencyRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .store_context("failed to read idempotency keys")?;
        stored.extend(rows.into_iter().map(|row| (row.id(), row)));
    }
    members
        .iter()
        .map(|member| {
            let Some(claim) = &member.claim else {
                return Ok(None);
            };
            stored
                .remove(&(claim.scope.clone(), claim.key.clone()))
                .map(|row| earlier_outcome(row, claim))
                .transpose()
        })
        .collect()
}

/// Stores the responses the members with a key got.
pub(crate) async fn store_replies(
    conn: &mut SqliteConnection,
    members: &[Member],
    records: &[Record],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    const COLUMNS: usize = 8;
    let created_at = instant_text(now)?;
    for chunk in records.chunks(MAX_BINDS / COLUMNS) {
        let mut rows = Vec::with_capacity(chunk.len());
        for record in chunk {
            let claim = members
                .get(record.member)
                .and_then(|member| member.claim.as_ref())
                .ok_or_else(|| {
                    StoreError::Unknown(anyhow::anyhow!("a response without its claim"))
                })?;
            rows.push((claim, &record.response, instant_text(claim.expires_at)?));
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, content_type, \
             body, created_at, expires_at) ",
        );
        query.push_values(rows, |mut row, (claim, response, expires_at)| {
            row.push_bind(claim.scope.as_str())
                .push_bind(claim.key.as_str())
                .push_bind(claim.fingerprint.as_str())
                .push_bind(i32::from(response.status))
                .push_bind(response.content_type.as_str())
                .push_bind(response.body.as_slice())
                .push_bind(created_at.clone())
                .push_bind(expires_at);
        });
        query
            .build()
            .execute(&mut *conn)
            .await
            .store_context("failed to record idempotency keys")?;
    }
    Ok(())
}

/// Writes a group's changes, in the order [`LedgerDiff`] documents. What a transfer writes
/// (accounts, transactions, postings) takes a statement per few hundred rows; internal
/// balances (a handful), reversals and holds, one per row.
pub(crate) async fn write_diff(
    conn: &mut SqliteConnection,
    diff: &LedgerDiff,
) -> Result<(), StoreError> {
    update_accounts(conn, &diff.accounts).await?;
    for (account, balance) in &diff.internal {
        let updated = sqlx::query("UPDATE internal_accounts SET balance_minor = ? WHERE id = ?")
            .bind(balance)
            .bind(account.id())
            .execute(&mut *conn)
            .await
            .store_context("failed to update internal account")?;
        check_updated_under_lock(updated.rows_affected(), "internal account", account)?;
    }
    insert_transactions(conn, &diff.new_transactions).await?;
    insert_postings(conn, &diff.new_transactions).await?;
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

/// Writes the accounts' new states over the versions read (under the writer's lock).
async fn update_accounts(
    conn: &mut SqliteConnection,
    updates: &[AccountUpdate],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 13;
    for chunk in updates.chunks(MAX_BINDS / COLUMNS) {
        let mut rows = Vec::with_capacity(chunk.len());
        for update in chunk {
            let after = &update.after;
            rows.push((
                update,
                instant_text(after.updated_at)?,
                optional_instant_text(after.closed_at)?,
            ));
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "WITH u(id, before_version, status, nickname, status_reason, balance_minor, \
             overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, outgoing_day, \
             version, updated_at, closed_at) AS (",
        );
        query.push_values(rows, |mut row, (update, updated_at, closed_at)| {
            let after = &update.after;
            row.push_bind(after.id.0)
                .push_bind(update.before_version)
                .push_bind(after.status.as_str())
                .push_bind(after.nickname.as_deref())
                .push_bind(after.status_reason.as_deref())
                .push_bind(after.balance_minor)
                .push_bind(after.overdraft_limit_minor)
                .push_bind(after.daily_limit_minor)
                .push_bind(after.outgoing_today_minor)
                .push_bind(after.outgoing_day)
                .push_bind(after.version)
                .push_bind(updated_at)
                .push_bind(closed_at);
        });
        query.push(
            ") UPDATE accounts SET status = u.status, nickname = u.nickname, \
             status_reason = u.status_reason, balance_minor = u.balance_minor, \
             overdraft_limit_minor = u.overdraft_limit_minor, \
             daily_limit_minor = u.daily_limit_minor, \
             outgoing_today_minor = u.outgoing_today_minor, outgoing_day = u.outgoing_day, \
             version = u.version, updated_at = u.updated_at, closed_at = u.closed_at \
             FROM u WHERE accounts.id = u.id AND accounts.version = u.before_version",
        );
        let updated = query
            .build()
            .execute(&mut *conn)
            .await
            .store_context("failed to update accounts")?;
        if updated.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::Unknown(anyhow::anyhow!(
                "{} of {} accounts changed under lock",
                updated.rows_affected(),
                chunk.len()
            )));
        }
    }
    Ok(())
}

/// Inserts booked transactions, in booking order.
async fn insert_transactions(
    conn: &mut SqliteConnection,
    transactions: &[Transaction],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 14;
    for chunk in transactions.chunks(MAX_BINDS / COLUMNS) {
        let mut rows = Vec::with_capacity(chunk.len());
        for transaction in chunk {
            rows.push((
                transaction,
                instant_text(transaction.created_at)?,
                optional_instant_text(transaction.completed_at)?,
            ));
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO transactions (id, type, status, amount_minor, currency, \
             source_account_id, destination_account_id, counterparty_iban, label, reverses_id, \
             reversed_by_id, hold_id, created_at, completed_at) ",
        );
        query.push_values(rows, |mut row, (transaction, created_at, completed_at)| {
            row.push_bind(transaction.id.0)
                .push_bind(transaction.transaction_type.as_str())
                .push_bind(transaction.status.as_str())
                .push_bind(transaction.amount.amount_minor())
                .push_bind(transaction.amount.currency().code())
                .push_bind(transaction.source.map(|id| id.0))
                .push_bind(transaction.destination.map(|id| id.0))
                .push_bind(
                    transaction
                        .counterparty_iban
                        .as_ref()
                        .map(|iban| iban.electronic()),
                )
                .push_bind(transaction.label.as_deref())
                .push_bind(transaction.reverses.map(|id| id.0))
                .push_bind(transaction.reversed_by.map(|id| id.0))
                .push_bind(transaction.hold.map(|id| id.0))
                .push_bind(created_at)
                .push_bind(completed_at);
        });
        query
            .build()
            .execute(&mut *conn)
            .await
            .store_context("failed to insert transactions")?;
    }
    Ok(())
}

/// Inserts the transactions' postings (`line` = position) in booking order, so that
/// `entry_id` follows it.
async fn insert_postings(
    conn: &mut SqliteConnection,
    transactions: &[Transaction],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 8;
    let mut rows = Vec::new();
    for transaction in transactions {
        let booked_at = instant_text(transaction.completed_at.unwrap_or(transaction.created_at))?;
        for (line, posting) in transaction.postings.iter().enumerate() {
            let line = i64::try_from(line)
                .map_err(|_| StoreError::Unknown(anyhow::anyhow!("too many postings")))?;
            rows.push((transaction.id.0, line, posting, booked_at.clone()));
        }
    }
    for chunk in rows.chunks(MAX_BINDS / COLUMNS) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO postings (transaction_id, line, account_id, direction, amount_minor, \
             currency, balance_after_minor, booked_at) ",
        );
        query.push_values(chunk, |mut row, (transaction, line, posting, booked_at)| {
            row.push_bind(*transaction)
                .push_bind(*line)
                .push_bind(posting.account.id())
                .push_bind(posting.direction.as_str())
                .push_bind(posting.amount.amount_minor())
                .push_bind(posting.amount.currency().code())
                .push_bind(posting.balance_after_minor)
                .push_bind(booked_at.as_str());
        });
        query
            .build()
            .execute(&mut *conn)
            .await
            .store_context("failed to insert postings")?;
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
