//! The ports: what the use cases need from the outside world, as traits.
//!
//! Adapters implement them (`coffre-store-sqlite`, `coffre-store-postgres`, the argon2 hasher,
//! the system clock); the binary wires concrete types together. Methods return
//! `impl Future + Send` (native async in traits, no boxing).
//!
//! Changes go through *update under lock* methods: the store opens a database transaction,
//! locks and loads the rows, hands them to a pure closure written by the use case (which applies
//! the domain rules and may refuse), writes back what changed and commits. The rules stay in the
//! domain, the atomicity stays in the store, and nothing is ever written from a stale read.

mod audit;
mod ledger;
mod mfa;
mod oauth;
mod rate_limit;
mod revocations;
mod seal;
mod shared_cache;
mod tokens;

use std::future::Future;

use coffre_domain::events::Actor;
use coffre_domain::{
    Account, AccountId, AccountStatus, AccountType, Customer, CustomerId, KycStatus, Role, UserId,
    Username,
};
use time::OffsetDateTime;

use crate::pagination::{Page, PageRequest};

pub use audit::{AccountSnapshot, AuditLog, CurrencyTotals, EventFilter, LiveState};
pub use ledger::{
    BatchResults, IdempotencyClaim, Ledger, LedgerBatch, LedgerOutcome, Respond, StatementFilter,
    StatementLine, StatementTotals, StoredResponse, TransactionFilter,
};
pub use mfa::{MfaChallengeRecord, MfaStore, TotpRecord};
pub use oauth::{
    AuthorizationCodeRecord, ClientRecord, OAuthStore, RefreshTokenRecord, RefreshTokenState,
    Rotation,
};
pub use rate_limit::{RateDecision, RateLimiter};
pub use revocations::{BoxFuture, RevocationList, StoreRevocations};
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

/// A stored user: a customer's login or a staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Identifier.
    pub id: UserId,
    /// Login name (lower case).
    pub username: Username,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// The customer this user is, for role `customer`.
    pub customer_id: Option<CustomerId>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A server-side session, found by the SHA-256 of its token (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the session token.
    pub token_hash: String,
    /// Whose session it is.
    pub user_id: UserId,
    /// Hex SHA-256 of the session's CSRF token.
    pub csrf_token_hash: String,
    /// Login time (the `auth_time` of what the session does).
    pub created_at: OffsetDateTime,
    /// How the user authenticated (`pwd`, `otp`, `mfa`), space-separated (RFC 8176 values).
    pub amr: String,
    /// Last authenticated request (for the idle timeout).
    pub last_seen_at: OffsetDateTime,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
}

/// Failed-login bookkeeping for one key (`user:<name>` or `ip:<address>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures in the current window.
    pub failures: u32,
    /// When the current window started.
    pub window_started_at: OffsetDateTime,
    /// Until when the key is locked out, if it is.
    pub locked_until: Option<OffsetDateTime>,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Only customers with this KYC status.
    pub kyc_status: Option<KycStatus>,
    /// Case-insensitive substring of first name, last name or e-mail (already lower case).
    pub query: Option<String>,
}

/// Filters of the account list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Only this customer's accounts.
    pub customer_id: Option<CustomerId>,
    /// Only accounts of this type.
    pub account_type: Option<AccountType>,
    /// Only accounts in this status.
    pub status: Option<AccountStatus>,
}

/// Persistence of customers, accounts, users, sessions and login throttling.
///
/// Every method is one database transaction. Closures passed to `update_*` and `insert_*`
/// methods run inside it, with the rows locked, and must be pure (no I/O). Every change to a
/// customer or an account appends its events (see [`coffre_domain::events::Event`]'s
/// `customer_registered`, `account_created`, `customer_changes` and `account_changes`) to the
/// event log in that same transaction, attributed to `actor`.
pub trait Store: Clone + Send + Sync + 'static {
    /// Checks that the database answers (readiness).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Creates a customer and their login together.
    fn insert_customer(
        &self,
        customer: &Customer,
        user: &UserRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads a customer.
    fn get_customer(
        &self,
        id: CustomerId,
    ) -> impl Future<Output = Result<Customer, StoreError>> + Send;

    /// Lists customers, newest first, with the total, from one snapshot.
    fn list_customers(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Customer>, StoreError>> + Send;

    /// Locks a customer and all their accounts, lets `change` modify them, and writes back the
    /// customer and every account whose `version` changed.
    fn update_customer<E, F>(
        &self,
        id: CustomerId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Customer, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), E> + Send + 'static;

    /// Locks a customer (so that a concurrent KYC decision is seen), lets `build` make the new
    /// account from it, and inserts the account.
    fn insert_account<E, F>(
        &self,
        customer_id: CustomerId,
        actor: Actor,
        build: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Customer) -> Result<Account, E> + Send + 'static;

    /// Reads an account.
    fn get_account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Account, StoreError>> + Send;

    /// Lists accounts, newest first, with the total, from one snapshot.
    fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Account>, StoreError>> + Send;

    /// Locks an account, lets `change` modify it, and writes it back if its `version` changed.
    fn update_account<E, F>(
        &self,
        id: AccountId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Account) -> Result<(), E> + Send + 'static;

    /// Creates a staff user (customers are created with [`Store::insert_customer`]).
    fn insert_user(&self, user: &UserRecord)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Finds a user by login name.
    fn find_user_by_username(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;

    /// Finds a user by id.
    fn find_user(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;

    /// Stores a new session and deletes the one it replaces, if any (session id rotation), then
    /// the user's oldest sessions beyond `max_per_user` (the new one always stays).
    fn insert_session(
        &self,
        session: &SessionRecord,
        replaces_token_hash: Option<&str>,
        max_per_user: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Finds a session and its user by token hash.
    fn find_session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<(SessionRecord, UserRecord)>, StoreError>> + Send;

    /// Records activity on a session (idle timeout).
    fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a session (logout, or found expired).
    fn delete_session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads the throttle state of each key; a missing key has no state.
    fn throttle_states(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<Option<ThrottleState>>, StoreError>> + Send;

    /// Locks a key's throttle state, replaces it with `next(current)`, and returns the new one.
    fn update_throttle<F>(
        &self,
        key: &str,
        next: F,
    ) -> impl Future<Output = Result<ThrottleState, StoreError>> + Send
    where
        F: FnOnce(Option<ThrottleState>) -> ThrottleState + Send + 'static;

    /// Forgets a key's failures (after a successful login).
    fn clear_throttle(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes what can no longer be used: sessions past their absolute expiry or idle since
    /// before `cutoffs.idle_since`, throttle states whose window started before
    /// `cutoffs.window_started` and that lock nothing out at `cutoffs.now`, and idempotency
    /// records, authorization codes, refresh tokens, login challenges and revoked access-token
    /// ids that expired at or before `cutoffs.now` (a used refresh token stays until it
    /// expires, so that its replay is still detected). Returns how many rows went.
    fn purge_expired(
        &self,
        cutoffs: PurgeCutoffs,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The instants before which sessions and throttle states are of no further use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// Now: a session expiring at or before it is over, a lockout ending before it is over.
    pub now: OffsetDateTime,
    /// A session last seen before this is idle for good.
    pub idle_since: OffsetDateTime,
    /// A throttle window that started before this no longer counts.
    pub window_started: OffsetDateTime,
}

/// Every password-hashing slot stayed busy for too long: the service is overloaded (503).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct HasherBusy;

/// Hashes and verifies passwords. Slow on purpose: implementations must not block the
/// async runtime.
pub trait PasswordHasher: Clone + Send + Sync + 'static {
    /// Hashes a password into a self-describing (PHC) string.
    fn hash(&self, password: &str) -> impl Future<Output = Result<String, anyhow::Error>> + Send;

    /// True when `password` matches `hash`.
    fn verify(
        &self,
        password: &str,
        hash: &str,
    ) -> impl Future<Output = Result<bool, anyhow::Error>> + Send;
}

/// The current time. A port so that expiry rules can be tested without waiting.
pub trait Clock: Clone + Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Truncated to the microsecond, the precision both databases store, so that what a
    /// write returns is exactly what a later read returns.
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
            .unwrap_or(now)
    }
}

/// Everything a store adapter provides: the foundation's [`Store`], the [`Ledger`], the
/// [`AuditLog`], the [`OAuthStore`] and the [`MfaStore`]. The use cases and the HTTP layer
/// are generic over this one bound.
pub trait Storage: Store + Ledger + AuditLog + OAuthStore + MfaStore {}

impl<T: Store + Ledger + AuditLog + OAuthStore + MfaStore> Storage for T {}
