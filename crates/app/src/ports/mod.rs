//! The ports: what the use cases need from the outside world, as traits.
//!
//! Adapters implement them (`coffre-store-sqlite`, `coffre-store-postgres`, `coffre-redis`,
//! `coffre-local`: the argon2 hasher, the system clock); the binary wires concrete types together. Methods return
//! `impl Future + Send` (native async in traits, no boxing), except the ports held as trait
//! objects because the binary chooses their implementation at start, which return a [`BoxFuture`].
//!
//! There is one port per aggregate (customers, accounts, users, sessions, login throttling,
//! housekeeping, the ledger, the audit log, OAuth, second factors), each implemented by the
//! adapter's module for that aggregate; [`Storage`] names them all.
//!
//! Changes go through *update under lock* methods: the store opens a database transaction,
//! locks and loads the rows, hands them to a pure closure written by the use case (which applies
//! the domain rules and may refuse), writes back what changed and commits. The rules stay in the
//! domain, the atomicity stays in the store, and nothing is ever written from a stale read.

mod accounts;
mod audit;
mod cache_entries;
mod customers;
mod housekeeping;
mod ledger;
mod logins;
mod mfa;
mod oauth;
mod rate_limit;
mod revocations;
mod seal;
mod shared_cache;
mod tokens;

use std::fmt::Debug;

use time::OffsetDateTime;

pub use accounts::{AccountFilter, AccountStore};
pub use audit::{AccountSnapshot, AuditLog, CurrencyTotals, EventFilter, LiveState};
pub use cache_entries::{CacheEntries, MakeCacheEntries};
pub use customers::{CustomerFilter, CustomerStore};
pub use housekeeping::{Housekeeping, PurgeCutoffs};
pub use ledger::{
    BatchResults, IdempotencyClaim, Ledger, LedgerBatch, LedgerOutcome, Respond, StatementFilter,
    StatementLine, StatementTotals, StoredResponse, TransactionFilter,
};
pub use logins::{
    SessionRecord, SessionStore, ThrottleState, ThrottleStore, UserRecord, UserStore,
};
pub use mfa::{MfaChallengeRecord, MfaStore, TotpRecord};
pub use oauth::{
    AuthorizationCodeRecord, ClientRecord, OAuthStore, RefreshTokenRecord, RefreshTokenState,
    Rotation,
};
pub use rate_limit::{RateDecision, RateLimiter};
pub use revocations::{BoxFuture, RevocationList};
pub use seal::SecretSeal;
pub use shared_cache::{Fill, FillTicket, Lookup, SharedCache};
pub use tokens::{AccessClaims, IdClaims, TokenRejected, TokenSigner};

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

/// Every password-hashing slot stayed busy for too long: the service is overloaded (503).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct HasherBusy;

/// Hashes and verifies passwords. Slow on purpose: implementations must not block the
/// async runtime. Held as a trait object: the one implementation is chosen by the binary.
pub trait PasswordHasher: Debug + Send + Sync + 'static {
    /// Hashes a password into a self-describing (PHC) string.
    fn hash<'a>(&'a self, password: &'a str) -> BoxFuture<'a, Result<String, anyhow::Error>>;

    /// True when `password` matches `hash`.
    fn verify<'a>(
        &'a self,
        password: &'a str,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<bool, anyhow::Error>>;
}

/// The current time. A port so that expiry rules can be tested without waiting.
pub trait Clock: Clone + Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Everything a store adapter provides: one port per aggregate. The use cases and the HTTP
/// layer are generic over this one bound.
pub trait Storage:
    CustomerStore
    + AccountStore
    + UserStore
    + SessionStore
    + ThrottleStore
    + Housekeeping
    + Ledger
    + AuditLog
    + OAuthStore
    + MfaStore
{
}

impl<T> Storage for T where
    T: CustomerStore
        + AccountStore
        + UserStore
        + SessionStore
        + ThrottleStore
        + Housekeeping
        + Ledger
        + AuditLog
        + OAuthStore
        + MfaStore
{
}
