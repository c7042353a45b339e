//! The transaction engine: one `BEGIN IMMEDIATE` transaction per group of batches (group
//! commit). The single writer holds the database from the first read to the commit, so
//! everything loaded is locked, and a key found free is still free at the commit.

use coffre_app::ports::{
    Ledger, LedgerBatch, LedgerOutcome, StatementFilter, StatementLine, StatementTotals,
    StoreError, TransactionFilter,
};
use coffre_domain::ledger::LedgerState;
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use std::collections::BTreeSet;

use coffre_domain::{Account, AccountId, Iban};
use coffre_store_sql::ledger_group::{SplitGroup, apply_group, finish, split_group, touched_by};
use coffre_store_sql::ledger_plan::{Touched, internal_accounts_of, state_currencies};
use coffre_store_sql::ledger_rows::InternalAccountRow;
use coffre_store_sql::rows::{AccountRow, convert_all};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;
use crate::events::append_attributed;
use crate::ledger_reads::{fetch_active_holds, fetch_hold, fetch_transaction};
use crate::multi_row::{MAX_BINDS, push_list};
use crate::{SqliteEngine, ledger_reads, ledger_write};

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
        if let Some(hold) = fetch_hold(conn, *id).await? {
            touched.accounts.insert(hold.account_id);
            state.holds.insert(hold.id, hold);
        }
    }
    for id in &touched.originals {
        if let Some(original) = fetch_transaction(conn, *id).await? {
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

impl Ledger for SqliteEngine {
    async fn execute(&self, group: Vec<LedgerBatch>) -> Result<Vec<LedgerOutcome>, StoreError> {
        execute(&self.write, group).await
    }

    async fn account_id_by_iban(&self, iban: &Iban) -> Result<Option<AccountId>, StoreError> {
        ledger_reads::account_id_by_iban(&self.read, iban).await
    }

    async fn get_transaction(&self, id: TransactionId) -> Result<Transaction, StoreError> {
        ledger_reads::get_transaction(&self.read, id).await
    }

    async fn list_transactions(
        &self,
        filter: &TransactionFilter,
        before: Option<TransactionId>,
        limit: u32,
    ) -> Result<Vec<Transaction>, StoreError> {
        ledger_reads::list_transactions(&self.read, filter, before, limit).await
    }

    async fn get_hold(&self, id: HoldId) -> Result<Hold, StoreError> {
        ledger_reads::get_hold(&self.read, id).await
    }

    async fn expired_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<HoldId>, StoreError> {
        ledger_reads::expired_holds(&self.read, now, limit).await
    }

    async fn pending_holds_minor(
        &self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        ledger_reads::pending_holds_minor(&self.read, account, now).await
    }

    async fn statement_lines(
        &self,
        account: AccountId,
        filter: &StatementFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StatementLine>, StoreError> {
        ledger_reads::statement_lines(&self.read, account, filter, after, limit).await
    }

    async fn balance_before(
        &self,
        account: AccountId,
        instant: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        ledger_reads::balance_before(&self.read, account, instant).await
    }

    async fn statement_totals(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<StatementTotals, StoreError> {
        ledger_reads::statement_totals(&self.read, account, from, to).await
    }
}
