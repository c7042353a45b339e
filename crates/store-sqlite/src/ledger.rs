//! The ledger group's steps on SQLite (the script that runs them is `store-sql`'s). The group
//! runs in one `BEGIN IMMEDIATE` transaction on the single writer, which holds the database
//! from the first read to the commit: everything loaded is locked, and a key found free is
//! still free at the commit. Writes go in multi-row statements, chunked under the bind limit
//! (`ledger_write`).

use std::collections::BTreeSet;

use coffre_app::ports::{LedgerOutcome, StoreError};
use coffre_domain::ledger::{Hold, LedgerState};
use coffre_domain::{Account, AccountId};
use coffre_store_sql::ledger::LedgerEngine;
use coffre_store_sql::ledger::reads::{fetch_hold, fetch_transaction};
use coffre_store_sql::ledger_group::{Member, Record};
use coffre_store_sql::ledger_plan::{LedgerDiff, Touched, internal_accounts_of, state_currencies};
use coffre_store_sql::ledger_rows::{HoldRow, InternalAccountRow};
use coffre_store_sql::rows::{AccountRow, convert_all};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;
use crate::multi_row::{MAX_BINDS, push_list};
use crate::{SqliteEngine, ledger_write};

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

/// Reads the accounts of `ids` that exist, in ascending id order (the lock order).
async fn fetch_existing_accounts(
    conn: &mut SqliteConnection,
    ids: &BTreeSet<AccountId>,
) -> Result<Vec<Account>, StoreError> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let mut accounts = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BINDS) {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id IN ("
        ));
        push_list(&mut query, chunk.iter().copied());
        query.push(") ORDER BY id");
        let rows: Vec<AccountRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .store_context("failed to read accounts")?;
        accounts.extend(convert_all::<_, Account>(rows)?);
    }
    Ok(accounts)
}

/// Loads everything a group names: the named holds and originals (which name their
/// accounts), the accounts, their active holds, and the internal accounts of the currencies
/// involved. What does not exist is left out, for `apply` to refuse.
async fn lock_state(
    conn: &mut SqliteConnection,
    mut touched: Touched,
) -> Result<LedgerState, StoreError> {
    let mut state = LedgerState::default();
    for id in &touched.holds {
        if let Some(hold) = fetch_hold::<SqliteEngine>(conn, *id).await? {
            touched.accounts.insert(hold.account_id);
            state.holds.insert(hold.id, hold);
        }
    }
    for id in &touched.originals {
        if let Some(original) = fetch_transaction::<SqliteEngine>(conn, *id).await? {
            touched.accounts.extend(original.source);
            touched.accounts.extend(original.destination);
            state.transactions.insert(original.id, original);
        }
    }
    for account in fetch_existing_accounts(conn, &touched.accounts).await? {
        state.accounts.insert(account.id, account);
    }
    let ids: Vec<Uuid> = state.accounts.keys().map(|id| id.0).collect();
    for hold in fetch_active_holds(conn, &ids).await? {
        state.holds.insert(hold.id, hold);
    }
    let mut currencies = touched.currencies;
    currencies.extend(state_currencies(&state));
    let wanted = internal_accounts_of(&currencies);
    let rows: Vec<InternalAccountRow> =
        sqlx::query_as("SELECT id, kind, currency, balance_minor FROM internal_accounts")
            .fetch_all(&mut *conn)
            .await
            .store_context("failed to read internal accounts")?;
    for row in rows {
        let (account, balance) = <(_, i64)>::try_from(row)?;
        if wanted.contains(&account) {
            state.internal.insert(account, balance);
        }
    }
    Ok(state)
}

impl LedgerEngine for SqliteEngine {
    /// The single writer holds the database from here to the commit: a key found free is
    /// still free when the reply is stored.
    async fn claim_keys(
        conn: &mut SqliteConnection,
        members: &[Member],
        _now: OffsetDateTime,
    ) -> Result<Vec<Option<LedgerOutcome>>, StoreError> {
        ledger_write::claim_keys(conn, members).await
    }

    async fn lock_state(
        conn: &mut SqliteConnection,
        touched: Touched,
    ) -> Result<LedgerState, StoreError> {
        lock_state(conn, touched).await
    }

    async fn write_diff(
        conn: &mut SqliteConnection,
        _before: &LedgerState,
        diff: &LedgerDiff,
    ) -> Result<(), StoreError> {
        ledger_write::write_diff(conn, diff).await
    }

    async fn store_replies(
        conn: &mut SqliteConnection,
        members: &[Member],
        records: &[Record],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        ledger_write::store_replies(conn, members, records, now).await
    }
}
