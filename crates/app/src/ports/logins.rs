//! The logins' ports: users (a customer's login or a staff member), their server-side
//! sessions, and the failed-login bookkeeping that throttles password guessing.

use std::future::Future;

use coffre_domain::{CustomerId, Role, UserId, Username};
use time::OffsetDateTime;

use crate::ports::StoreError;

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

/// Persistence of users. Customers' users are created with their customer
/// ([`CustomerStore::insert_customer`](crate::ports::CustomerStore::insert_customer)).
pub trait UserStore: Clone + Send + Sync + 'static {
    /// Creates a staff user.
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
}

/// Persistence of sessions.
pub trait SessionStore: Clone + Send + Sync + 'static {
    /// Stores a new session and deletes the one it replaces, if any (session id rotation), then
    /// the user's oldest sessions beyond `max_per_user` (the new one always stays), in one
    /// transaction.
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
}

/// Persistence of failed-login throttling.
pub trait ThrottleStore: Clone + Send + Sync + 'static {
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
}
