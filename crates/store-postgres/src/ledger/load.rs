//! Locking and loading everything a batch touches, in the one lock order: customer accounts
//! by id, then internal accounts by id (the event chain head comes last, when appending).

use std::collections::BTreeSet;

use coffre_app::ports::StoreError;
use coffre_domain::Account;
use coffre_domain::ledger::{InternalAccount, LedgerAccount, LedgerState};
use coffre_store_sql::ledger_plan::{Touched, internal_accounts_of, state_currencies};
use coffre_store_sql::ledger_rows::{
    HoldRow, InternalAccountRow, PostingRow, TransactionRow, transactions_from_rows,
};
use coffre_store_sql::rows::{AccountRow, convert_all};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::StoreContext;

/// Locks and loads the state what a group names needs. What does not exist is simply absent:
/// `apply` refuses the commands that name it.
pub(super) async fn lock_state(
    conn: &mut PgConnection,
    touched: Touched,
) -> Result<LedgerState, StoreError> {
    let holds: Vec<Uuid> = touched.holds.iter().map(|hold| hold.0).collect();
    let originals: Vec<Uuid> = touched.originals.iter().map(|id| id.0).collect();
    // A hold's account and a transaction's postings never change: reading them before taking
    // any lock is safe, and tells which accounts to lock.
    let mut ids: BTreeSet<Uuid> = touched.accounts.iter().map(|id| id.0).collect();
    ids.extend(hold_accounts(conn, &holds).await?);
    ids.extend(original_accounts(conn, &originals).await?);
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let mut state = LedgerState::default();
    for account in lock_accounts(conn, &ids).await? {
        state.accounts.insert(account.id, account);
    }
    for hold in load_holds(conn, &ids, &holds).await? {
        state.holds.insert(hold.id, hold);
    }
    for transaction in load_originals(conn, &originals).await? {
        state.transactions.insert(transaction.id, transaction);
    }
    let mut currencies = touched.currencies;
    currencies.extend(state_currencies(&state));
    for (account, balance) in lock_internal(conn, &internal_accounts_of(&currencies)).await? {
        state.internal.insert(account, balance);
    }
    Ok(state)
}

/// Reads and locks the accounts among `ids` that exist, in id order (the lock order every
/// transaction that locks several accounts follows).
async fn lock_accounts(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
    .store_context("failed to lock accounts")?;
    convert_all(rows)
}

/// The accounts of the named holds.
async fn hold_accounts(conn: &mut PgConnection, holds: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
    if holds.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT DISTINCT account_id FROM holds WHERE id = ANY($1)")
        .bind(holds)
        .fetch_all(conn)
        .await
        .store_context("failed to read the holds' accounts")
}

/// The customer accounts the originals to reverse posted to.
async fn original_accounts(
    conn: &mut PgConnection,
    originals: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    if originals.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM postings WHERE transaction_id = ANY($1)",
    )
    .bind(originals)
    .fetch_all(conn)
    .await
    .store_context("failed to read the originals' accounts")?;
    Ok(ids
        .into_iter()
        .filter(|id| matches!(LedgerAccount::from_id(*id), LedgerAccount::Customer(_)))
        .collect())
}

/// Every active hold of the locked accounts, and the named holds, read under the accounts'
/// locks (every change to a hold locks its account first).
async fn load_holds(
    conn: &mut PgConnection,
    accounts: &[Uuid],
    holds: &[Uuid],
) -> Result<Vec<coffre_domain::ledger::Hold>, StoreError> {
    let rows: Vec<HoldRow> = sqlx::query_as(concat!(
        "SELECT ",
        hold_columns!(),
        " FROM holds WHERE (account_id = ANY($1) AND status = 'ACTIVE') OR id = ANY($2)"
    ))
    .bind(accounts)
    .bind(holds)
    .fetch_all(conn)
    .await
    .store_context("failed to load holds")?;
    convert_all(rows)
}

/// The transactions to reverse, with their postings.
async fn load_originals(
    conn: &mut PgConnection,
    originals: &[Uuid],
) -> Result<Vec<coffre_domain::ledger::Transaction>, StoreError> {
    if originals.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<TransactionRow> = sqlx::query_as(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE id = ANY($1)"
    ))
    .bind(originals)
    .fetch_all(&mut *conn)
    .await
    .store_context("failed to load the transactions to reverse")?;
    let postings: Vec<PostingRow> = sqlx::query_as(concat!(
        "SELECT ",
        posting_columns!(),
        " FROM postings WHERE transaction_id = ANY($1) ORDER BY transaction_id, line"
    ))
    .bind(originals)
    .fetch_all(conn)
    .await
    .store_context("failed to load the postings to reverse")?;
    transactions_from_rows(rows, postings)
}

/// Locks the internal accounts, in id order, and reads their balances.
async fn lock_internal(
    conn: &mut PgConnection,
    accounts: &[InternalAccount],
) -> Result<Vec<(InternalAccount, i64)>, StoreError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = accounts.iter().map(|account| account.id()).collect();
    let rows: Vec<InternalAccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        internal_account_columns!(),
        " FROM internal_accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE"
    ))
    .bind(&ids)
    .fetch_all(conn)
    .await
    .store_context("failed to lock internal accounts")?;
    convert_all(rows)
}
