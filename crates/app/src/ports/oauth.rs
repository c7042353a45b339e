//! The OAuth2 authorization server's port: registered clients, authorization codes, refresh
//! token families and the database's list of revoked access tokens.
//!
//! Secrets (client secrets, codes, refresh tokens) are never stored, only their hashes: a copy
//! of the database redeems nothing.

use std::future::Future;

use coffre_domain::UserId;
use coffre_domain::oauth::{ClientId, OAuthClient};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{StoreError, UserRecord};

/// A stored client: the registration and, for confidential clients, the PHC hash of its
/// secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The registration.
    pub client: OAuthClient,
    /// Argon2 hash of the secret (confidential clients only).
    pub secret_hash: Option<String>,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

/// An authorization code waiting to be redeemed (at most 60 s, once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    /// Hex SHA-256 of the code.
    pub code_hash: String,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user who consented.
    pub user_id: UserId,
    /// The redirect URI of the authorization request (the token request must repeat it).
    pub redirect_uri: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The OIDC nonce to echo in the id token.
    pub nonce: Option<String>,
    /// How the user authenticated (`pwd`, `otp`), space-separated.
    pub amr: String,
    /// When the user authenticated.
    pub auth_time: OffsetDateTime,
    /// After this, the code is worthless.
    pub expires_at: OffsetDateTime,
}

/// A refresh token. Tokens descending from one grant form a *family*; each use rotates the
/// token, and presenting a used one again revokes the whole family (RFC 9700 §4.14.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// The family (the first token's grant).
    pub family_id: Uuid,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// Whose access it renews.
    pub user_id: UserId,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// How the user authenticated at the family's start, space-separated.
    pub amr: String,
    /// When the user authenticated.
    pub auth_time: OffsetDateTime,
    /// When this token was issued.
    pub issued_at: OffsetDateTime,
    /// When this token stops working even unused.
    pub expires_at: OffsetDateTime,
}

/// A refresh token as the store knows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenState {
    /// The token.
    pub record: RefreshTokenRecord,
    /// Already exchanged for a newer one.
    pub used: bool,
    /// Its family was revoked.
    pub revoked: bool,
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was live: it is now used and `next` (same family) was stored. Carries the presented
    /// token.
    Rotated(RefreshTokenRecord),
    /// It had been used already: someone replayed it, so its whole family is now revoked.
    Reused,
    /// Unknown, expired, or of a revoked family.
    Invalid,
}

/// Clients, codes, refresh tokens and revoked access tokens.
pub trait OAuthStore: Clone + Send + Sync + 'static {
    /// Registers a client, and its service user when it has one, in one transaction.
    fn insert_client(
        &self,
        client: &ClientRecord,
        service_user: Option<&UserRecord>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A client by id.
    fn find_client(
        &self,
        id: ClientId,
    ) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send;

    /// Stores a new authorization code.
    fn insert_authorization_code(
        &self,
        code: &AuthorizationCodeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes and returns the code with this hash if it has not expired at `now`. Atomic: of
    /// two concurrent redemptions, one gets the code and the other `None`.
    fn take_authorization_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<AuthorizationCodeRecord>, StoreError>> + Send;

    /// Stores the first token of a new family.
    fn insert_refresh_token(
        &self,
        token: &RefreshTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Presents the token with `presented_hash` at `now`, atomically: if it is live, marks it
    /// used and stores `next`; if it was used already, revokes its family. Of two concurrent
    /// presentations of one token, exactly one rotates.
    fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &RefreshTokenRecord,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;

    /// A refresh token by hash, whatever its state.
    fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenState>, StoreError>> + Send;

    /// Revokes a family (idempotent).
    fn revoke_refresh_family(
        &self,
        family_id: Uuid,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revokes every family of a user (logout, password change).
    fn revoke_user_refresh_families(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds an access token id to the revocation list until `expires_at` (idempotent).
    fn revoke_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// True when the access token id is on the revocation list.
    fn access_token_revoked(
        &self,
        jti: Uuid,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
