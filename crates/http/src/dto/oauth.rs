//! The authorization server on the wire: form parameters in (RFC 6749 §4, RFC 7009, RFC 7662),
//! JSON out.

use coffre_app::oauth::{Introspection, TokenResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// `POST /oauth/token` form parameters (`application/x-www-form-urlencoded`).
#[derive(Default, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `authorization_code`, `refresh_token`, `client_credentials` or `password`.
    pub grant_type: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// The redirect URI the code was requested with.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier.
    pub code_verifier: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// Username (password grant).
    pub username: Option<String>,
    /// Password (password grant).
    #[schema(format = Password)]
    pub password: Option<String>,
    /// One-time code (password grant, for users with TOTP enabled): a TOTP code or a recovery
    /// code. Without it such a user's password grant is refused with `mfa_required`.
    pub totp_code: Option<String>,
    /// Requested scopes, space-separated.
    pub scope: Option<String>,
    /// Client id (`client_secret_post`, or public clients).
    pub client_id: Option<String>,
    /// Client secret (`client_secret_post`).
    #[schema(format = Password)]
    pub client_secret: Option<String>,
}

/// `POST /oauth/revoke` and `/oauth/introspect` form parameters.
#[derive(Default, Deserialize, ToSchema)]
pub struct TokenParameterForm {
    /// The token.
    pub token: Option<String>,
    /// `access_token` or `refresh_token` (a hint only).
    pub token_type_hint: Option<String>,
    /// Client id (`client_secret_post`, or public clients).
    pub client_id: Option<String>,
    /// Client secret (`client_secret_post`).
    #[schema(format = Password)]
    pub client_secret: Option<String>,
}

/// `POST /oauth/refresh` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token to rotate.
    pub refresh_token: String,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    /// The access token: a JWT (RFC 9068).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The next refresh token; the one presented is now used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The OpenID Connect id token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The granted scopes.
    pub scope: String,
}

impl From<TokenResponse> for TokenDto {
    fn from(response: TokenResponse) -> Self {
        TokenDto {
            access_token: response.access_token,
            token_type: "Bearer",
            expires_in: response.expires_in,
            refresh_token: response.refresh_token,
            id_token: response.id_token,
            scope: response.scope,
        }
    }
}

/// An RFC 6749 §5.2 error.
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorDto {
    /// The error code, e.g. `invalid_grant`.
    pub error: &'static str,
    /// What went wrong, for a developer.
    pub error_description: String,
}

/// The introspection answer (RFC 7662 §2.2): exactly `{"active": false}` for anything not
/// active.
pub fn introspection_json(introspection: &Introspection) -> Value {
    match introspection {
        Introspection::Inactive => json!({"active": false}),
        Introspection::AccessToken(claims) => json!({
            "active": true,
            "token_type": "Bearer",
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": claims.iss,
            "exp": claims.exp,
            "iat": claims.iat,
            "nbf": claims.nbf,
            "jti": claims.jti,
        }),
        Introspection::RefreshToken(state) => json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": state.record.scope,
            "client_id": state.record.client_id.to_string(),
            "sub": state.record.user_id.to_string(),
            "exp": state.record.expires_at.unix_timestamp(),
            "iat": state.record.issued_at.unix_timestamp(),
        }),
    }
}
