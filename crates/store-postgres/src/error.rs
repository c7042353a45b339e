//! Turning PostgreSQL's errors into the port's meanings: nothing from sqlx crosses the port.
//!
//! Only what PostgreSQL's own errors mean is read here; the driver's failures and the
//! wrapping are shared with SQLite in `coffre-store-sql`.

use coffre_app::ports::{ConflictKind, StoreError};
use coffre_store_sql::error::DatabaseErrorMeaning;
use sqlx::error::DatabaseError;

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";

/// Which uniqueness rule a constraint (or unique index) name stands for; the names are set in
/// the migrations.
fn conflict_kind(constraint: &str) -> Option<ConflictKind> {
    match constraint {
        "customers_email_key" => Some(ConflictKind::Email),
        "users_username_key" => Some(ConflictKind::Username),
        "accounts_iban_key" => Some(ConflictKind::Iban),
        "accounts_one_open_livret_a" => Some(ConflictKind::LivretA),
        "idempotency_keys_pkey" => Some(ConflictKind::IdempotencyKey),
        _ => None,
    }
}

/// SQLSTATEs of a lock that could not be had: serialization failure, deadlock, lock not
/// available (lock timeout). Every writer locks in one fixed order, so these are bugs.
fn means_lock_failure(code: &str) -> bool {
    matches!(code, "40001" | "40P01" | "55P03")
}

/// SQLSTATEs that mean "the database cannot serve us now" rather than "this request is wrong":
/// connection exceptions (class 08), too many connections, and a server shutting down or
/// starting up.
fn means_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "53300" | "57P01" | "57P02" | "57P03")
}

/// What PostgreSQL's own error means, by its SQLSTATE: a uniqueness rule the port knows (by
/// the constraint's name), or a server that cannot serve us now.
fn read_database_error(database: &dyn DatabaseError) -> DatabaseErrorMeaning {
    let code = database.code().unwrap_or_default();
    if code == UNIQUE_VIOLATION {
        if let Some(kind) = database.constraint().and_then(conflict_kind) {
            return DatabaseErrorMeaning::Conflict(kind);
        }
    }
    if means_unavailable(&code) {
        DatabaseErrorMeaning::Unavailable
    } else {
        DatabaseErrorMeaning::Other
    }
}

/// Classifies a failed step; `action` says what was being done ("failed to insert customer").
///
/// A deadlock, serialization failure or lock timeout is reported as a lock-order bug, with its
/// context, never retried: the fixed lock order (customers, accounts by id, internal accounts,
/// the event chain head) is what rules them out.
pub(crate) fn classify(error: sqlx::Error, action: &'static str) -> StoreError {
    let lock_failure = match &error {
        sqlx::Error::Database(database) => means_lock_failure(&database.code().unwrap_or_default()),
        _ => false,
    };
    match coffre_store_sql::error::classify(error, action, read_database_error) {
        StoreError::Unknown(error) if lock_failure => StoreError::Unknown(error.context(
            "lock conflict (deadlock, serialization failure or lock timeout): the lock order was broken",
        )),
        other => other,
    }
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
    fn every_uniqueness_rule_has_its_constraint() {
        assert_eq!(
            conflict_kind("customers_email_key"),
            Some(ConflictKind::Email)
        );
        assert_eq!(
            conflict_kind("accounts_one_open_livret_a"),
            Some(ConflictKind::LivretA)
        );
        assert_eq!(
            conflict_kind("idempotency_keys_pkey"),
            Some(ConflictKind::IdempotencyKey)
        );
        assert_eq!(conflict_kind("customers_pkey"), None);
    }

    #[test]
    fn connection_failures_mean_unavailable() {
        assert!(means_unavailable("08006"));
        assert!(means_unavailable("57P01"));
        assert!(!means_unavailable("23505"));
    }

    #[test]
    fn lock_failures_are_recognised() {
        assert!(means_lock_failure("40P01"));
        assert!(means_lock_failure("40001"));
        assert!(means_lock_failure("55P03"));
        assert!(!means_lock_failure("23505"));
    }
}
