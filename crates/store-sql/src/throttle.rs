//! The engine-independent part of reading failed-login bookkeeping: the bound on one read, and
//! putting the rows found back in the order of the keys asked for.

use std::collections::HashMap;

use coffre_app::ports::{StoreError, ThrottleState};

use crate::rows::ThrottleRow;

/// At most this many keys per read (the size of SQLite's `IN` list, of PostgreSQL's array): a
/// login checks two, the account and the address.
pub const MAX_KEYS: usize = 64;

/// Refuses to read more than [`MAX_KEYS`] keys at once.
pub fn check_key_count(keys: &[String]) -> Result<(), StoreError> {
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
pub fn states_in_key_order(
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
