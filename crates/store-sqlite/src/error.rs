//! Turning SQLite's errors into the port's meanings: nothing from sqlx crosses the port.
//!
//! Only what SQLite's own errors mean is read here; the driver's failures and the wrapping
//! are shared with PostgreSQL in `coffre-store-sql`.

use coffre_app::ports::{ConflictKind, StoreError};
use coffre_store_sql::error::DatabaseErrorMeaning;
use sqlx::error::DatabaseError;

/// SQLite's primary result codes for "another connection holds the lock" (`SQLITE_BUSY`,
/// `SQLITE_LOCKED`): after the busy timeout, the database is as good as unavailable.
const BUSY_CODES: [i64; 2] = [5, 6];

/// Which uniqueness rule a unique-violation message names. SQLite names the columns of the
/// index (`UNIQUE constraint failed: accounts.iban`), not the index; the only unique index on
/// `accounts.customer_id` is the partial one that allows one open Livret A.
fn conflict_kind(message: &str) -> Option<ConflictKind> {
    let columns = message
        .rsplit_once(": ")
        .map_or(message, |(_, columns)| columns);
    match columns {
        "customers.email" => Some(ConflictKind::Email),
        "users.username" => Some(ConflictKind::Username),
        "accounts.iban" => Some(ConflictKind::Iban),
        "accounts.customer_id" => Some(ConflictKind::LivretA),
        "idempotency_keys.scope, idempotency_keys.key" => Some(ConflictKind::IdempotencyKey),
        _ => None,
    }
}

/// What SQLite's own error means: a uniqueness rule the port knows, or the lock still held by
/// another connection after the busy timeout.
fn read_database_error(database: &dyn DatabaseError) -> DatabaseErrorMeaning {
    if database.is_unique_violation() {
        if let Some(kind) = conflict_kind(database.message()) {
            return DatabaseErrorMeaning::Conflict(kind);
        }
    }
    // Extended result codes carry the primary code in their low byte.
    let primary_code = database
        .code()
        .and_then(|code| code.parse::<i64>().ok())
        .map(|code| code & 0xff);
    if primary_code.is_some_and(|code| BUSY_CODES.contains(&code)) {
        DatabaseErrorMeaning::Unavailable
    } else {
        DatabaseErrorMeaning::Other
    }
}

/// Classifies a failed step; `action` says what was being done ("failed to insert customer").
pub(crate) fn classify(error: sqlx::Error, action: &'static str) -> StoreError {
    coffre_store_sql::error::classify(error, action, read_database_error)
}

/// `.store_context("failed to ...")` on a sqlx result: classifies the error with its context.
pub(crate) trait StoreContext<T> {
    /// Classifies the error, if any, as [`classify`] does.
    fn store_context(self, action: &'static str) -> Result<T, StoreError>;
}

impl<T> StoreContext<T> for Result<T, sqlx::Error> {
    fn store_context(self, action: &'static str) -> Result<T, StoreError> {
        self.map_err(|error| classify(error, action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_are_recognised_by_their_columns() {
        assert_eq!(
            conflict_kind("UNIQUE constraint failed: customers.email"),
            Some(ConflictKind::Email)
        );
        assert_eq!(
            conflict_kind("UNIQUE constraint failed: accounts.customer_id"),
            Some(ConflictKind::LivretA)
        );
        assert_eq!(
            conflict_kind("UNIQUE constraint failed: customers.id"),
            None
        );
    }
}
