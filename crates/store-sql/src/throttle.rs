//! Failed-login bookkeeping per key: read several keys at once, update one under a lock on the
//! key, forget one.

use std::collections::HashMap;

use coffre_app::ports::{StoreError, ThrottleState, ThrottleStore};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use crate::engine::{Engine, StoreContext};
use crate::rows::ThrottleRow;
use crate::store::SqlStore;
use crate::writes::normalise_throttle;

/// The namespace of the key lock that serializes updates of one throttle key, so that these
/// locks never collide with other advisory locks ("thr" in ASCII).
const LOCK_NAMESPACE: i32 = 0x0074_6872;

impl<E: Engine> ThrottleStore for SqlStore<E>
where
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    ThrottleRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Reads the state of each key, in the order of `keys`; a missing key has none.
    async fn throttle_states(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<ThrottleState>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        check_key_count(keys)?;
        let mut query = QueryBuilder::<E::Db>::new(
            "SELECT key, failures, window_started_at, locked_until FROM login_throttle WHERE key IN (",
        );
        let mut separated = query.separated(", ");
        for key in keys {
            separated.push_bind(key.as_str());
        }
        query.push(")");
        let mut conn = self.engine.acquire_read().await?;
        let rows: Vec<ThrottleRow> = query
            .build_query_as()
            .fetch_all(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to read throttle states")?;
        states_in_key_order(keys, rows)
    }

    /// Locks the key, computes its next state and stores it.
    ///
    /// A row lock would not be enough: the first failures of a key race to create its row, and
    /// one would overwrite the other. The key lock serializes them whether the row exists or
    /// not.
    async fn update_throttle<F>(&self, key: &str, next: F) -> Result<ThrottleState, StoreError>
    where
        F: FnOnce(Option<ThrottleState>) -> ThrottleState + Send + 'static,
    {
        let mut tx = self.engine.begin_write().await?;
        E::lock_key(&mut tx, LOCK_NAMESPACE, key).await?;
        let row: Option<ThrottleRow> = sqlx::query_as(
            "SELECT key, failures, window_started_at, locked_until FROM login_throttle WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to read throttle state")?;
        let current = row.map(ThrottleState::try_from).transpose()?;
        let mut state = next(current);
        normalise_throttle(&mut state);
        sqlx::query(
            "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
             window_started_at = excluded.window_started_at, locked_until = excluded.locked_until",
        )
        .bind(key)
        .bind(i64::from(state.failures))
        .bind(E::instant(state.window_started_at)?)
        .bind(E::optional_instant(state.locked_until)?)
        .execute(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to write throttle state")?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit throttle update")?;
        Ok(state)
    }

    /// Forgets a key.
    async fn clear_throttle(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to clear throttle state")?;
        Ok(())
    }
}

/// At most this many keys per read (the size of SQLite's `IN` list, of PostgreSQL's array): a
/// login checks two, the account and the address.
pub const MAX_KEYS: usize = 64;

/// Refuses to read more than [`MAX_KEYS`] keys at once.
fn check_key_count(keys: &[String]) -> Result<(), StoreError> {
    if keys.len() > MAX_KEYS {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "asked for {} throttle keys at once, at most {MAX_KEYS} are allowed",
            keys.len()
        )));
    }
    Ok(())
}

/// The state of each key, in the order of `keys`, from the rows a query found in any order; a
/// key without a row has none.
fn states_in_key_order(
    keys: &[String],
    rows: Vec<ThrottleRow>,
) -> Result<Vec<Option<ThrottleState>>, StoreError> {
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let key = row.key().to_owned();
        found.insert(key, ThrottleState::try_from(row)?);
    }
    Ok(keys.iter().map(|key| found.get(key).copied()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_keys_than_the_bound_are_refused() {
        let keys = vec![String::from("k"); MAX_KEYS];
        assert!(check_key_count(&keys).is_ok());
        let keys = vec![String::from("k"); MAX_KEYS + 1];
        assert!(matches!(
            check_key_count(&keys),
            Err(StoreError::Unknown(_))
        ));
    }

    fn throttle_row(key: &str, failures: i64) -> ThrottleRow {
        ThrottleRow {
            key: key.to_owned(),
            failures,
            window_started_at: time::macros::datetime!(2025-03-01 09:00 UTC),
            locked_until: None,
        }
    }

    #[test]
    fn throttle_states_come_back_in_the_order_of_the_keys() -> Result<(), StoreError> {
        let keys = ["b", "missing", "a"].map(String::from);
        let rows = vec![throttle_row("a", 1), throttle_row("b", 2)];
        let failures: Vec<Option<u32>> = states_in_key_order(&keys, rows)?
            .into_iter()
            .map(|state| state.map(|state| state.failures))
            .collect();
        assert_eq!(failures, [Some(2), None, Some(1)]);
        Ok(())
    }
}
