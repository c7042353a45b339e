//! Coffre as its own OAuth 2.0 / OpenID Connect authorization server: registering clients, the
//! token endpoint's grants, refresh-token rotation, revocation, introspection and bearer
//! authentication. It follows the OAuth 2.0 Security BCP (RFC 9700) and the JWT BCP (RFC 8725).

mod authorize;
mod bearer;
mod clients;
mod grants;
mod issue;
mod revocation;

use std::net::IpAddr;

use time::Duration;

use crate::AppError;

pub use authorize::{AuthorizationRequest, AuthorizeError, ValidAuthorization};
pub use bearer::UserInfo;
pub use clients::{ClientSecret, RegisteredClient};
pub use revocation::Introspection;

/// The authorization server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthPolicy {
    /// `iss` of every token: Coffre's public URL.
    pub issuer: String,
    /// `aud` of access tokens: the API.
    pub audience: String,
    /// Access-token life (default 15 minutes).
    pub access_token_ttl: Duration,
    /// Refresh-token life, renewed by each rotation.
    pub refresh_token_ttl: Duration,
    /// Authorization-code life (at most 60 s).
    pub code_ttl: Duration,
}

/// RFC 6749 §5.2 error codes (and RFC 7009/7662's use of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// A required parameter is missing or malformed.
    InvalidRequest,
    /// Client authentication failed (401).
    InvalidClient,
    /// The code, refresh token or resource-owner credentials are invalid.
    InvalidGrant,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// Not a grant Coffre implements.
    UnsupportedGrantType,
    /// A scope the client or user may not have.
    InvalidScope,
    /// The password grant's user has TOTP enabled and `totp_code` is missing or wrong (an
    /// extension error, as other authorization servers answer it).
    MfaRequired,
}

impl OAuthErrorCode {
    /// The `error` value.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::MfaRequired => "mfa_required",
        }
    }
}

/// What the token, revocation and introspection endpoints refuse with.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// A protocol error, answered as `{error, error_description}`.
    #[error("{}: {description}", code.as_str())]
    Protocol {
        /// The error code.
        code: OAuthErrorCode,
        /// A human-readable explanation (never a secret).
        description: String,
    },
    /// Too many failed attempts (the login or client-authentication throttles): answered as
    /// `{error, error_description}` with `code`, but 429 with `Retry-After`.
    #[error("{}: too many failed attempts", code.as_str())]
    Throttled {
        /// The error code: what the refused attempt was (`invalid_grant`, `invalid_client`).
        code: OAuthErrorCode,
        /// How long until the caller may try again.
        retry_after: Duration,
    },
    /// Anything else (an unavailable database), answered as problem+json.
    #[error(transparent)]
    App(#[from] AppError),
}

impl OAuthError {
    fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        OAuthError::Protocol {
            code,
            description: description.into(),
        }
    }

    fn invalid_client() -> Self {
        OAuthError::new(
            OAuthErrorCode::InvalidClient,
            "client authentication failed",
        )
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        OAuthError::new(OAuthErrorCode::InvalidGrant, description)
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(OAuthErrorCode::InvalidRequest, description)
    }

    /// `error`, with a throttle's refusal given as `code` (RFC 6749 clients read `error`).
    fn throttled_as(code: OAuthErrorCode, error: AppError) -> Self {
        match error {
            AppError::RateLimited { retry_after } => OAuthError::Throttled { code, retry_after },
            other => OAuthError::App(other),
        }
    }
}

impl From<crate::ports::StoreError> for OAuthError {
    fn from(error: crate::ports::StoreError) -> Self {
        OAuthError::App(AppError::from(error))
    }
}

/// How a client identified itself: `client_secret_basic`, `client_secret_post`, or (public
/// clients) its id alone. Its `Debug` never shows the secret.
#[derive(Clone, Default)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (confidential clients).
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A token request's parameters (RFC 6749 §4), as the form sent them. Its `Debug` shows no
/// secret.
#[derive(Clone, Default)]
pub struct TokenRequest {
    /// The authenticated or identified client.
    pub client: ClientCredentials,
    /// `grant_type`.
    pub grant_type: String,
    /// `code` (authorization_code).
    pub code: Option<String>,
    /// `redirect_uri` (authorization_code).
    pub redirect_uri: Option<String>,
    /// `code_verifier` (authorization_code, PKCE).
    pub code_verifier: Option<String>,
    /// `refresh_token` (refresh_token).
    pub refresh_token: Option<String>,
    /// `username` (password).
    pub username: Option<String>,
    /// `password` (password).
    pub password: Option<String>,
    /// `totp_code` (password, for users with TOTP enabled): a TOTP or recovery code.
    pub totp_code: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// The caller's address, for throttling.
    pub client_ip: Option<IpAddr>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("client", &self.client)
            .field("grant_type", &self.grant_type)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A successful token response (RFC 6749 §5.1). Its `Debug` shows no token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The next refresh token, when the client may refresh.
    pub refresh_token: Option<String>,
    /// The id token, when `openid` was granted to a user.
    pub id_token: Option<String>,
    /// The granted scopes.
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}
