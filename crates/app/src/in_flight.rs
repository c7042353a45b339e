//! The idempotency keys whose first request is running on this node, so that a second
//! request with the same key is refused at once (409) rather than racing the first.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::AppError;

/// The `(scope, key)` pairs whose first request is still running on this node.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight(Arc<Mutex<HashSet<(String, String)>>>);

impl InFlight {
    /// Marks `(scope, key)` as running, or refuses with 409 when it already is. The mark goes
    /// when the guard is dropped, however the request ends.
    pub(crate) fn enter(&self, scope: &str, key: &str) -> Result<InFlightGuard, AppError> {
        let entry = (scope.to_owned(), key.to_owned());
        // A poisoned set is still a valid set: a panic elsewhere cannot leave it half-changed.
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !set.insert(entry.clone()) {
            return Err(AppError::IdempotencyKeyInFlight);
        }
        Ok(InFlightGuard {
            set: self.clone(),
            entry,
        })
    }
}

/// Removes its key from the in-flight set when dropped.
#[derive(Debug)]
pub(crate) struct InFlightGuard {
    set: InFlight,
    entry: (String, String),
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut set = self.set.0.lock().unwrap_or_else(PoisonError::into_inner);
        set.remove(&self.entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_in_flight_until_its_guard_drops() -> Result<(), AppError> {
        let set = InFlight::default();
        let guard = set.enter("user:1", "k")?;
        assert!(matches!(
            set.enter("user:1", "k"),
            Err(AppError::IdempotencyKeyInFlight)
        ));
        assert!(set.enter("user:2", "k").is_ok(), "scopes are separate");
        drop(guard);
        assert!(set.enter("user:1", "k").is_ok());
        Ok(())
    }
}
