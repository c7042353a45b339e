//! Failed-login bookkeeping per key.

use coffre_app::ports::{StoreError, ThrottleState, ThrottleStore};
use coffre_store_sql::rows::ThrottleRow;
use coffre_store_sql::throttle::{check_key_count, states_in_key_order};
use coffre_store_sql::writes::normalise_throttle;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::SqliteEngine;
use crate::error::StoreContext;
use crate::instants::{instant_text, optional_instant_text};

/// Reads the state of each key, in the order of `keys`; a missing key has none.
pub(crate) async fn states(
    read: &SqlitePool,
    keys: &[String],
) -> Result<Vec<Option<ThrottleState>>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    check_key_count(keys)?;
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT key, failures, window_started_at, locked_until FROM login_throttle WHERE key IN (",
    );
    let mut separated = query.separated(", ");
    for key in keys {
        separated.push_bind(key.as_str());
    }
    query.push(")");
    let rows: Vec<ThrottleRow> = query
        .build_query_as()
        .fetch_all(read)
        .await
        .store_context("failed to read throttle states")?;
    states_in_key_order(keys, rows)
}

/// Locks the key (the single writer holds the database), computes its next state and stores it.
pub(crate) async fn update<F>(
    write: &SqlitePool,
    key: &str,
    next: F,
) -> Result<ThrottleState, StoreError>
where
    F: FnOnce(Option<ThrottleState>) -> ThrottleState,
{
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin throttle update")?;
    let row: Option<ThrottleRow> = sqlx::query_as(
        "SELECT key, failures, window_started_at, locked_until FROM login_throttle WHERE key = ?",
    )
    .bind(key)
    .fetch_optional(&mut *tx)
    .await
    .store_context("failed to read throttle state")?;
    let current = row.map(ThrottleState::try_from).transpose()?;
    let mut state = next(current);
    normalise_throttle(&mut state);
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) VALUES (?, ?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         window_started_at = excluded.window_started_at, locked_until = excluded.locked_until",
    )
    .bind(key)
    .bind(i64::from(state.failures))
    .bind(instant_text(state.window_started_at)?)
    .bind(optional_instant_text(state.locked_until)?)
    .execute(&mut *tx)
    .await
    .store_context("failed to write throttle state")?;
    tx.commit()
        .await
        .store_context("failed to commit throttle update")?;
    Ok(state)
}

/// Forgets a key.
pub(crate) async fn clear(write: &SqlitePool, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_throttle WHERE key = ?")
        .bind(key)
        .execute(write)
        .await
        .store_context("failed to clear throttle state")?;
    Ok(())
}

impl ThrottleStore for SqliteEngine {
    async fn throttle_states(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<ThrottleState>>, StoreError> {
        states(&self.read, keys).await
    }

    async fn update_throttle<F>(&self, key: &str, next: F) -> Result<ThrottleState, StoreError>
    where
        F: FnOnce(Option<ThrottleState>) -> ThrottleState + Send + 'static,
    {
        update(&self.write, key, next).await
    }

    async fn clear_throttle(&self, key: &str) -> Result<(), StoreError> {
        clear(&self.write, key).await
    }
}
