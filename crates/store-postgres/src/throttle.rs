//! Failed-login bookkeeping per key.

use coffre_app::ports::{StoreError, ThrottleState, ThrottleStore};
use coffre_store_sql::rows::ThrottleRow;
use coffre_store_sql::throttle::{check_key_count, states_in_key_order};
use coffre_store_sql::writes::normalise_throttle;
use sqlx::PgPool;

use crate::PostgresEngine;
use crate::error::StoreContext;

/// The first half of the two-part advisory lock key that serializes updates of one throttle
/// key, so that throttle locks never collide with other advisory locks ("thr" in ASCII).
const ADVISORY_LOCK_NAMESPACE: i32 = 0x0074_6872;

/// Reads the state of each key, in the order of `keys`; a missing key has none.
pub(crate) async fn states(
    pool: &PgPool,
    keys: &[String],
) -> Result<Vec<Option<ThrottleState>>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    check_key_count(keys)?;
    let rows: Vec<ThrottleRow> = sqlx::query_as(
        "SELECT key, failures, window_started_at, locked_until FROM login_throttle WHERE key = ANY($1)",
    )
    .bind(keys)
    .fetch_all(pool)
    .await
    .store_context("failed to read throttle states")?;
    states_in_key_order(keys, rows)
}

/// Locks the key, computes its next state and stores it.
///
/// A row lock is not enough: the first failures of a key race to create its row, and one
/// would overwrite the other. A transaction-scoped advisory lock on the key serializes them
/// whether the row exists or not.
pub(crate) async fn update<F>(
    pool: &PgPool,
    key: &str,
    next: F,
) -> Result<ThrottleState, StoreError>
where
    F: FnOnce(Option<ThrottleState>) -> ThrottleState,
{
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin throttle update")?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(ADVISORY_LOCK_NAMESPACE)
        .bind(key)
        .execute(&mut *tx)
        .await
        .store_context("failed to lock throttle key")?;
    let row: Option<ThrottleRow> = sqlx::query_as(
        "SELECT key, failures, window_started_at, locked_until FROM login_throttle WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(&mut *tx)
    .await
    .store_context("failed to read throttle state")?;
    let current = row.map(ThrottleState::try_from).transpose()?;
    let mut state = next(current);
    normalise_throttle(&mut state);
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         window_started_at = excluded.window_started_at, locked_until = excluded.locked_until",
    )
    .bind(key)
    .bind(i64::from(state.failures))
    .bind(state.window_started_at)
    .bind(state.locked_until)
    .execute(&mut *tx)
    .await
    .store_context("failed to write throttle state")?;
    tx.commit()
        .await
        .store_context("failed to commit throttle update")?;
    Ok(state)
}

/// Forgets a key.
pub(crate) async fn clear(pool: &PgPool, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await
        .store_context("failed to clear throttle state")?;
    Ok(())
}

impl ThrottleStore for PostgresEngine {
    async fn throttle_states(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<ThrottleState>>, StoreError> {
        states(&self.pool, keys).await
    }

    async fn update_throttle<F>(&self, key: &str, next: F) -> Result<ThrottleState, StoreError>
    where
        F: FnOnce(Option<ThrottleState>) -> ThrottleState + Send + 'static,
    {
        update(&self.pool, key, next).await
    }

    async fn clear_throttle(&self, key: &str) -> Result<(), StoreError> {
        clear(&self.pool, key).await
    }
}
