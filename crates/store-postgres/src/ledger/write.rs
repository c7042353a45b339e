//! Writing what a group changed, in the order the foreign keys need (see
//! [`LedgerDiff`]): accounts, internal balances, new transactions with their postings, changed
//! transactions, new holds, changed holds.

use coffre_app::ports::StoreError;
use coffre_domain::Account;
use coffre_domain::ledger::{Hold, InternalAccount, LedgerState, Transaction};
use coffre_store_sql::ledger_plan::{AccountUpdate, LedgerDiff};
use coffre_store_sql::writes::check_updated_under_lock;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::StoreContext;

/// Writes the diff between the locked state and the state after `apply`. What a transfer
/// writes (accounts, internal balances, transactions, postings) takes one statement per kind
/// whatever the group's size; reversals and holds, rarer, one per row.
pub(super) async fn write_diff(
    conn: &mut PgConnection,
    before: &LedgerState,
    diff: &LedgerDiff,
) -> Result<(), StoreError> {
    update_accounts(conn, &diff.accounts).await?;
    update_internal(conn, before, &diff.internal).await?;
    insert_transactions(conn, &diff.new_transactions).await?;
    insert_postings(conn, &diff.new_transactions).await?;
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

/// Writes the accounts' new states over the versions read under their locks.
async fn update_accounts(
    conn: &mut PgConnection,
    updates: &[AccountUpdate],
) -> Result<(), StoreError> {
    if updates.is_empty() {
        return Ok(());
    }
    let accounts: Vec<&Account> = updates.iter().map(|update| &update.after).collect();
    let updated = sqlx::query(
        "UPDATE accounts AS a SET status = u.status, nickname = u.nickname, \
         status_reason = u.status_reason, balance_minor = u.balance_minor, \
         overdraft_limit_minor = u.overdraft_limit_minor, daily_limit_minor = u.daily_limit_minor, \
         outgoing_today_minor = u.outgoing_today_minor, outgoing_day = u.outgoing_day, \
         version = u.version, updated_at = u.updated_at, closed_at = u.closed_at \
         FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], \
         $7::bigint[], $8::bigint[], $9::bigint[], $10::date[], $11::bigint[], $12::timestamptz[], \
         $13::timestamptz[]) AS u(id, before_version, status, nickname, status_reason, balance_minor, \
         overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, outgoing_day, version, \
         updated_at, closed_at) \
         WHERE a.id = u.id AND a.version = u.before_version",
    )
    .bind(accounts.iter().map(|a| a.id.0).collect::<Vec<Uuid>>())
    .bind(updates.iter().map(|u| u.before_version).collect::<Vec<i64>>())
    .bind(accounts.iter().map(|a| a.status.as_str()).collect::<Vec<&str>>())
    .bind(accounts.iter().map(|a| a.nickname.as_deref()).collect::<Vec<Option<&str>>>())
    .bind(accounts.iter().map(|a| a.status_reason.as_deref()).collect::<Vec<Option<&str>>>())
    .bind(accounts.iter().map(|a| a.balance_minor).collect::<Vec<i64>>())
    .bind(accounts.iter().map(|a| a.overdraft_limit_minor).collect::<Vec<i64>>())
    .bind(accounts.iter().map(|a| a.daily_limit_minor).collect::<Vec<Option<i64>>>())
    .bind(accounts.iter().map(|a| a.outgoing_today_minor).collect::<Vec<i64>>())
    .bind(accounts.iter().map(|a| a.outgoing_day).collect::<Vec<Option<Date>>>())
    .bind(accounts.iter().map(|a| a.version).collect::<Vec<i64>>())
    .bind(accounts.iter().map(|a| a.updated_at).collect::<Vec<OffsetDateTime>>())
    .bind(accounts.iter().map(|a| a.closed_at).collect::<Vec<Option<OffsetDateTime>>>())
    .execute(conn)
    .await
    .store_context("failed to update accounts")?;
    check_all_updated(updated.rows_affected(), updates.len(), "account")
}

/// Writes internal accounts' new balances. Only locked (so loaded) ones may change: the
/// ledger touching another is a bug, and writing it would skip the lock order.
async fn update_internal(
    conn: &mut PgConnection,
    before: &LedgerState,
    balances: &[(InternalAccount, i64)],
) -> Result<(), StoreError> {
    if balances.is_empty() {
        return Ok(());
    }
    if let Some((account, _)) = balances
        .iter()
        .find(|(account, _)| !before.internal.contains_key(account))
    {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "the ledger changed the internal account {account}, which was not locked"
        )));
    }
    let updated = sqlx::query(
        "UPDATE internal_accounts AS i SET balance_minor = u.balance_minor \
         FROM unnest($1::uuid[], $2::bigint[]) AS u(id, balance_minor) WHERE i.id = u.id",
    )
    .bind(balances.iter().map(|(a, _)| a.id()).collect::<Vec<Uuid>>())
    .bind(balances.iter().map(|(_, b)| *b).collect::<Vec<i64>>())
    .execute(conn)
    .await
    .store_context("failed to update internal accounts")?;
    check_all_updated(updated.rows_affected(), balances.len(), "internal account")
}

/// Inserts booked transactions, in booking order.
async fn insert_transactions(
    conn: &mut PgConnection,
    transactions: &[Transaction],
) -> Result<(), StoreError> {
    if transactions.is_empty() {
        return Ok(());
    }
    let ids = |f: fn(&Transaction) -> Option<Uuid>| transactions.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO transactions (id, type, status, amount_minor, currency, source_account_id, \
         destination_account_id, counterparty_iban, label, reverses_id, reversed_by_id, hold_id, \
         created_at, completed_at) \
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], \
         $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::uuid[], $11::uuid[], $12::uuid[], \
         $13::timestamptz[], $14::timestamptz[])",
    )
    .bind(transactions.iter().map(|t| t.id.0).collect::<Vec<Uuid>>())
    .bind(
        transactions
            .iter()
            .map(|t| t.transaction_type.as_str())
            .collect::<Vec<&str>>(),
    )
    .bind(
        transactions
            .iter()
            .map(|t| t.status.as_str())
            .collect::<Vec<&str>>(),
    )
    .bind(
        transactions
            .iter()
            .map(|t| t.amount.amount_minor())
            .collect::<Vec<i64>>(),
    )
    .bind(
        transactions
            .iter()
            .map(|t| t.amount.currency().code())
            .collect::<Vec<&str>>(),
    )
    .bind(ids(|t| t.source.map(|id| id.0)))
    .bind(ids(|t| t.destination.map(|id| id.0)))
    .bind(
        transactions
            .iter()
            .map(|t| t.counterparty_iban.as_ref().map(|iban| iban.electronic()))
            .collect::<Vec<Option<&str>>>(),
    )
    .bind(
        transactions
            .iter()
            .map(|t| t.label.as_deref())
            .collect::<Vec<Option<&str>>>(),
    )
    .bind(ids(|t| t.reverses.map(|id| id.0)))
    .bind(ids(|t| t.reversed_by.map(|id| id.0)))
    .bind(ids(|t| t.hold.map(|id| id.0)))
    .bind(
        transactions
            .iter()
            .map(|t| t.created_at)
            .collect::<Vec<OffsetDateTime>>(),
    )
    .bind(
        transactions
            .iter()
            .map(|t| t.completed_at)
            .collect::<Vec<Option<OffsetDateTime>>>(),
    )
    .execute(conn)
    .await
    .store_context("failed to insert transactions")?;
    Ok(())
}

/// Inserts the transactions' postings in booking order, so that `entry_id` follows it.
async fn insert_postings(
    conn: &mut PgConnection,
    transactions: &[Transaction],
) -> Result<(), StoreError> {
    let mut rows = PostingColumns::default();
    for transaction in transactions {
        rows.push(transaction)?;
    }
    if rows.transaction_id.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO postings (transaction_id, line, account_id, direction, amount_minor, currency, \
         balance_after_minor, booked_at) \
         SELECT transaction_id, line, account_id, direction, amount_minor, currency, \
         balance_after_minor, booked_at \
         FROM unnest($1::uuid[], $2::integer[], $3::uuid[], $4::text[], $5::bigint[], $6::text[], \
         $7::bigint[], $8::timestamptz[]) WITH ORDINALITY \
         AS p(transaction_id, line, account_id, direction, amount_minor, currency, \
         balance_after_minor, booked_at, position) ORDER BY position",
    )
    .bind(&rows.transaction_id)
    .bind(&rows.line)
    .bind(&rows.account_id)
    .bind(&rows.direction)
    .bind(&rows.amount_minor)
    .bind(&rows.currency)
    .bind(&rows.balance_after_minor)
    .bind(&rows.booked_at)
    .execute(conn)
    .await
    .store_context("failed to insert postings")?;
    Ok(())
}

/// The postings of a group, column by column (what `unnest` takes).
#[derive(Default)]
struct PostingColumns {
    transaction_id: Vec<Uuid>,
    line: Vec<i32>,
    account_id: Vec<Uuid>,
    direction: Vec<&'static str>,
    amount_minor: Vec<i64>,
    currency: Vec<&'static str>,
    balance_after_minor: Vec<i64>,
    booked_at: Vec<OffsetDateTime>,
}

impl PostingColumns {
    /// Adds a transaction's postings, numbered from 0 in posting order.
    fn push(&mut self, transaction: &Transaction) -> Result<(), StoreError> {
        let booked_at = transaction.completed_at.unwrap_or(transaction.created_at);
        for (line, posting) in transaction.postings.iter().enumerate() {
            let line = i32::try_from(line).map_err(|_| {
                StoreError::Unknown(anyhow::anyhow!(
                    "transaction {} has too many postings",
                    transaction.id
                ))
            })?;
            self.transaction_id.push(transaction.id.0);
            self.line.push(line);
            self.account_id.push(posting.account.id());
            self.direction.push(posting.direction.as_str());
            self.amount_minor.push(posting.amount.amount_minor());
            self.currency.push(posting.amount.currency().code());
            self.balance_after_minor.push(posting.balance_after_minor);
            self.booked_at.push(booked_at);
        }
        Ok(())
    }
}

/// Refuses a set-based update that changed fewer rows than asked: under the locks, a row that
/// is missing or at another version is a bug, and nothing of the group may be committed.
fn check_all_updated(updated: u64, expected: usize, what: &str) -> Result<(), StoreError> {
    if updated == expected as u64 {
        return Ok(());
    }
    Err(StoreError::Unknown(anyhow::anyhow!(
        "{updated} of {expected} {what} rows changed under lock"
    )))
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
