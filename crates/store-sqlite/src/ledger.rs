//! The transaction engine: one `BEGIN IMMEDIATE` transaction per group of batches (group
//! commit). The single writer holds the database from the first read to the commit, so
//! everything loaded is locked, and a key found free is still free at the commit.

use coffre_app::ports::{LedgerBatch, LedgerOutcome, StoreError};
use coffre_domain::ledger::Hold;
use coffre_domain::ledger::LedgerState;
use std::collections::BTreeSet;

use coffre_domain::{Account, AccountId};
use coffre_store_sql::ledger::LedgerEngine;
use coffre_store_sql::ledger::reads::{fetch_hold, fetch_transaction};
use coffre_store_sql::ledger_group::{SplitGroup, apply_group, finish, split_group, touched_by};
use coffre_store_sql::ledger_plan::{Touched, internal_accounts_of, state_currencies};
use coffre_store_sql::ledger_rows::{HoldRow, InternalAccountRow};
use coffre_store_sql::rows::{AccountRow, convert_all};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use uuid::Uuid;

use crate::error::StoreContext;
use crate::events::append_attributed;
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
async fn load_state(
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

/// Runs a group of batches (see `coffre_app::ports::Ledger`).
pub(crate) async fn execute(
    write: &SqlitePool,
    group: Vec<LedgerBatch>,
) -> Result<Vec<LedgerOutcome>, StoreError> {
    let SplitGroup {
        members,
        responders,
        now,
    } = split_group(group)?;
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin ledger group")?;
    let earlier = ledger_write::earlier_outcomes(&mut tx, &members).await?;
    let before = load_state(&mut tx, touched_by(&members, &earlier)).await?;
    let applied = apply_group(&before, &members, &earlier, now)?;
    ledger_write::write_diff(&mut tx, &applied.diff).await?;
    append_attributed(&mut tx, &applied.events, now).await?;
    let (records, outcomes) = finish(applied.results, earlier, responders)?;
    ledger_write::insert_records(&mut tx, &members, &records, now).await?;
    tx.commit()
        .await
        .store_context("failed to commit ledger group")?;
    Ok(outcomes)
}

impl LedgerEngine for SqliteEngine {
    async fn execute_group(
        &self,
        group: Vec<LedgerBatch>,
    ) -> Result<Vec<LedgerOutcome>, StoreError> {
        execute(&self.write, group).await
    }
}
