//! The token signer's port: signing Coffre's JWTs and verifying its own access tokens.
//!
//! It is synchronous (signing is CPU work measured in microseconds) and object safe, so the
//! service holds it as `Arc<dyn TokenSigner>`; the adapter (`coffre-jose`) owns the keys.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The claims of an access token (RFC 9068, `typ: at+jwt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: Coffre's public URL.
    pub iss: String,
    /// Subject: the user id (a service account's user id for `client_credentials`).
    pub sub: String,
    /// Audience: the API.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Token id (a UUID), what revocation lists.
    pub jti: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The subject's roles.
    pub roles: Vec<String>,
    /// Authentication methods (RFC 8176): `pwd`, `otp`.
    pub amr: Vec<String>,
    /// The client the token was issued to.
    pub client_id: String,
    /// When the user authenticated (absent for service accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// A private claim: the refresh-token family the token was minted with (absent when it
    /// was minted without one). Revoking the family revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fid: Option<String>,
}

/// The claims of an OpenID Connect id token (OIDC Core §2). Never accepted as an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Audience: the client id.
    pub aud: String,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The authorization request's nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Authentication methods.
    pub amr: Vec<String>,
    /// The username (with the `profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
}

/// Why a presented access token is refused. Every case is a 401 to the client; the variants
/// are for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    /// Not a compact JWS, bad base64 or JSON, or missing claims.
    #[error("malformed token")]
    Malformed,
    /// An algorithm other than the one Coffre signs with (`none`, HS256, ...).
    #[error("algorithm not accepted")]
    Algorithm,
    /// No `kid`, or one that is not in Coffre's key set.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// `typ` is not `at+jwt` (an id token, for instance).
    #[error("not an access token")]
    WrongType,
    /// Past `exp`.
    #[error("expired")]
    Expired,
    /// Before `nbf`.
    #[error("not yet valid")]
    NotYetValid,
    /// `iss` is not Coffre.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` is not this API.
    #[error("wrong audience")]
    WrongAudience,
}

/// Signs Coffre's tokens and verifies its access tokens, with keys from Coffre's own key set
/// only: never a key named or embedded by the token.
pub trait TokenSigner: std::fmt::Debug + Send + Sync + 'static {
    /// Signs an access token with the current key (`typ: at+jwt`).
    fn sign_access_token(&self, claims: &AccessClaims) -> Result<String, anyhow::Error>;

    /// Signs an id token with the current key (`typ: JWT`).
    fn sign_id_token(&self, claims: &IdClaims) -> Result<String, anyhow::Error>;

    /// Verifies an access token at `now`: algorithm, `kid` in the key set, signature, `typ`,
    /// `iss`, `aud`, `exp` and `nbf` (with a small leeway for clock skew).
    fn verify_access_token(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessClaims, TokenRejected>;

    /// The public keys that verify tokens still in circulation, as a JWKS document.
    fn jwks(&self) -> serde_json::Value;
}
