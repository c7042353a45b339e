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
mod clock;
mod customers;
mod housekeeping;
mod ledger;
mod logins;
mod mfa;
mod oauth;
mod password;
mod rate_limit;
mod revocations;
mod seal;
mod shared_cache;
mod storage;
mod store_error;
mod tokens;

pub use accounts::{AccountFilter, AccountStore};
pub use audit::{AccountSnapshot, AuditLog, CurrencyTotals, EventFilter, LiveState};
pub use cache_entries::{CacheEntries, MakeCacheEntries};
pub use clock::Clock;
pub use customers::{CustomerFilter, CustomerStore};
pub use housekeeping::{Housekeeping, PurgeCutoffs};
pub use ledger::{
    BatchResults, IdempotencyClaim, Ledger, LedgerBatch, LedgerOutcome, LinesPage, Respond,
    StatementFilter, StatementLine, StatementTotals, StoredResponse, TransactionFilter,
};
pub use logins::{
    SessionRecord, SessionStore, ThrottleState, ThrottleStore, UserRecord, UserStore,
};
pub use mfa::{MfaChallengeRecord, MfaStore, TotpRecord};
pub use oauth::{
    AuthorizationCodeRecord, ClientRecord, OAuthStore, RefreshTokenRecord, RefreshTokenState,
    Rotation,
};
pub use password::{HasherBusy, PasswordHasher};
pub use rate_limit::{RateDecision, RateLimiter};
pub use revocations::{BoxFuture, RevocationList};
pub use seal::SecretSeal;
pub use shared_cache::{Fill, FillTicket, Lookup, SharedCache};
pub use storage::Storage;
pub use store_error::{ConflictKind, StoreError};
pub use tokens::{AccessClaims, IdClaims, TokenRejected, TokenSigner};
