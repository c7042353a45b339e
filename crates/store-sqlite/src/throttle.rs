//! Failed-login bookkeeping per key.

use coffre_app::ports::{StoreError, ThrottleState};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::error::StoreContext;
use crate::rows::{ThrottleRow, instant_text, normalise_throttle, optional_instant_text};

/// At most this many keys per read: a login checks two (the account and the address).
const MAX_KEYS: usize = 64;

/// Reads the state of each key, in the order of `keys`; a missing key has none.
pub(crate) async fn states(
    read: &SqlitePool,
    keys: &[String],
) -> Result<Vec<Option<ThrottleState>>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    if keys.len() > MAX_KEYS {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "asked for {} throttle keys at once, at most {MAX_KEYS} are allowed",
            keys.len()
        )));
    }
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
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        let key = row.key().to_owned();
        found.insert(key, ThrottleState::try_from(row)?);
    }
    Ok(keys.iter().map(|key| found.get(key).copied()).collect())
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
