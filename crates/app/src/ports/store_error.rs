//! What a store reports when it fails, already translated from the database's own errors.

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Another customer has this e-mail address.
    Email,
    /// Another user has this username.
    Username,
    /// Another account has this IBAN.
    Iban,
    /// The customer already has an open Livret A.
    LivretA,
    /// Another request with the same idempotency key committed first (on another node).
    IdempotencyKey,
}

/// What a store reports, already translated from the database's own errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row to read or change does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken.
    #[error("unique constraint violated: {0:?}")]
    Conflict(ConflictKind),
    /// The database cannot be reached (pool timeout, connection refused).
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(anyhow::Error),
}
