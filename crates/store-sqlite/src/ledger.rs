//! The transaction engine: one `BEGIN IMMEDIATE` transaction per batch. The single writer
//! holds the database from the first read to the commit, so everything loaded is locked.

use coffre_app::ports::{LedgerBatch, LedgerOutcome, StoreError};
use coffre_domain::ledger::{LedgerCommand, LedgerState, apply};
use coffre_store_sql::ledger_plan::{
    discards, events_of, internal_accounts_of, ledger_diff, state_currencies, touched,
};
use coffre_store_sql::ledger_rows::InternalAccountRow;
use coffre_store_sql::writes::stored_instant;
use sqlx::{SqliteConnection, SqlitePool};

use crate::error::StoreContext;
use crate::events::append_events;
use crate::ledger_reads::{fetch_active_holds, fetch_hold, fetch_transaction};
use crate::{accounts, ledger_write};

/// Loads everything `commands` touch: the named holds and originals (which name their
/// accounts), the accounts, their active holds, and the internal accounts of the currencies
/// involved. What does not exist is left out, for `apply` to refuse.
async fn load_state(
    conn: &mut SqliteConnection,
    commands: &[LedgerCommand],
) -> Result<LedgerState, StoreError> {
    let mut touched = touched(commands);
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
    for account in accounts::fetch_existing(conn, &touched.accounts).await? {
        for hold in fetch_active_holds(conn, account.id).await? {
            state.holds.insert(hold.id, hold);
        }
        state.accounts.insert(account.id, account);
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

/// Runs a batch (see `coffre_app::ports::Ledger`).
pub(crate) async fn execute(
    write: &SqlitePool,
    batch: LedgerBatch,
) -> Result<LedgerOutcome, StoreError> {
    let LedgerBatch {
        commands,
        atomic,
        actor,
        now,
        policy,
        idempotency,
    } = batch;
    let now = stored_instant(now);
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin ledger batch")?;
    if let Some(claim) = &idempotency {
        let (scope, key, fingerprint) = (
            claim.scope.clone(),
            claim.key.clone(),
            claim.fingerprint.clone(),
        );
        if let Some(outcome) = ledger_write::replay(&mut tx, &scope, &key, &fingerprint).await? {
            tx.rollback()
                .await
                .store_context("failed to end ledger batch")?;
            return Ok(outcome);
        }
    }
    let before = load_state(&mut tx, &commands).await?;
    let mut after = before.clone();
    let results = apply(&mut after, &commands, &policy, now);
    if !discards(atomic, &results) {
        let diff = ledger_diff(&before, &after, &results)?;
        ledger_write::write_diff(&mut tx, &diff).await?;
        append_events(&mut tx, &events_of(&results), actor, now).await?;
    }
    let response = match idempotency {
        Some(claim) => {
            let response = ledger_write::record_response(&mut tx, claim, &results, now).await?;
            Some(response)
        }
        None => None,
    };
    tx.commit()
        .await
        .store_context("failed to commit ledger batch")?;
    Ok(LedgerOutcome::Executed { results, response })
}
