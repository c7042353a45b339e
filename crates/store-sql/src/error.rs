//! The engine-independent half of turning sqlx's errors into the port's meanings.
//!
//! What a database's own error means (which code is a lock timeout, which constraint or index
//! stands for which uniqueness rule) is engine knowledge, so each adapter reads it; everything
//! else (the driver's own failures, and how a meaning becomes a [`StoreError`] with its
//! context) is the same for both engines and lives here.

use coffre_app::ports::{ConflictKind, StoreError};
use sqlx::error::DatabaseError;

/// What an adapter reads in an error its database reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseErrorMeaning {
    /// A uniqueness rule the port knows was broken.
    Conflict(ConflictKind),
    /// The database cannot serve us now (locked, shutting down, out of connections).
    Unavailable,
    /// Anything else: a bug, a broken schema, bad data.
    Other,
}

/// Classifies a failed step. `action` says what was being done ("failed to insert customer")
/// and `read_database_error` is the engine's reading of its database's own errors.
pub fn classify(
    error: sqlx::Error,
    action: &'static str,
    read_database_error: fn(&dyn DatabaseError) -> DatabaseErrorMeaning,
) -> StoreError {
    let meaning = match &error {
        sqlx::Error::Database(database) => read_database_error(database.as_ref()),
        // The driver could not reach or keep a connection: nothing is wrong with the request.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => DatabaseErrorMeaning::Unavailable,
        _ => DatabaseErrorMeaning::Other,
    };
    match meaning {
        DatabaseErrorMeaning::Conflict(kind) => StoreError::Conflict(kind),
        DatabaseErrorMeaning::Unavailable => {
            StoreError::Unavailable(anyhow::Error::new(error).context(action))
        }
        DatabaseErrorMeaning::Other => {
            StoreError::Unknown(anyhow::Error::new(error).context(action))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands in for an engine whose database errors all mean nothing in particular.
    fn nothing_special(_: &dyn DatabaseError) -> DatabaseErrorMeaning {
        DatabaseErrorMeaning::Other
    }

    #[test]
    fn a_pool_timeout_means_the_database_is_unavailable() {
        let error = classify(
            sqlx::Error::PoolTimedOut,
            "failed to read account",
            nothing_special,
        );
        assert!(matches!(error, StoreError::Unavailable(_)));
    }

    #[test]
    fn a_missing_column_is_unknown_and_keeps_its_context() {
        let error = classify(
            sqlx::Error::ColumnNotFound("iban".to_owned()),
            "failed to read account",
            nothing_special,
        );
        assert!(
            matches!(&error, StoreError::Unknown(error) if error.to_string() == "failed to read account"),
            "{error:?}"
        );
    }
}
