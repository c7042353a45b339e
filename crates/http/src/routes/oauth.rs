//! `/oauth` and `/.well-known`: the authorization server's endpoints. Errors here follow
//! RFC 6749 §5.2 (`{error, error_description}`), not problem+json, because that is what OAuth
//! client libraries read (see `oauth_errors`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use coffre_app::oauth::{ClientCredentials, OAuthError, OAuthErrorCode, TokenRequest};
use coffre_app::ports::{Clock, Storage};
use serde::de::DeserializeOwned;

use crate::dto::oauth::{
    OAuthErrorDto, RefreshBody, TokenDto, TokenForm, TokenParameterForm, introspection_json,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::routes::auth::ClientIp;
use crate::routes::oauth_errors::{OAuthFailure, failure, no_store};
use crate::state::AppState;

fn protocol(code: OAuthErrorCode, description: &str) -> OAuthError {
    OAuthError::Protocol {
        code,
        description: description.to_owned(),
    }
}

/// Parses an `application/x-www-form-urlencoded` body; a repeated parameter is refused
/// (RFC 6749 §3.2).
fn form<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(protocol(
            OAuthErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    serde_urlencoded::from_bytes(body).map_err(|_| {
        protocol(
            OAuthErrorCode::InvalidRequest,
            "malformed or repeated form parameters",
        )
    })
}

/// `client_secret_basic`: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
/// `Ok(None)` without an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<ClientCredentials>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Some((scheme, encoded)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
        return Err(protocol(
            OAuthErrorCode::InvalidClient,
            "malformed Authorization header",
        ));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let pair = decoded.as_deref().and_then(|text| text.split_once(':'));
    let unescape = |text: &str| {
        form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
    };
    match pair.and_then(|(id, secret)| Some((unescape(id)?, unescape(secret)?))) {
        Some((client_id, client_secret)) => Ok(Some(ClientCredentials {
            client_id,
            client_secret: Some(client_secret),
        })),
        None => Err(protocol(
            OAuthErrorCode::InvalidClient,
            "malformed Basic credentials",
        )),
    }
}

/// The client's credentials from exactly one method: Basic, or the form's `client_id` (with
/// `client_secret` for `client_secret_post`). Two methods at once is `invalid_request`.
fn client_credentials(
    headers: &HeaderMap,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<ClientCredentials, OAuthError> {
    match basic_credentials(headers)? {
        Some(basic) => {
            if client_secret.is_some() || client_id.is_some_and(|id| id != basic.client_id) {
                return Err(protocol(
                    OAuthErrorCode::InvalidRequest,
                    "use one client authentication method",
                ));
            }
            Ok(basic)
        }
        None => match client_id {
            Some(client_id) => Ok(ClientCredentials {
                client_id,
                client_secret,
            }),
            None => Err(protocol(
                OAuthErrorCode::InvalidClient,
                "client authentication is required",
            )),
        },
    }
}

/// The client and the `token` parameter of a revocation or introspection request.
fn token_parameter(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(ClientCredentials, String), OAuthError> {
    let form: TokenParameterForm = form(headers, body)?;
    let client = client_credentials(headers, form.client_id, form.client_secret)?;
    let token = form
        .token
        .ok_or_else(|| protocol(OAuthErrorCode::InvalidRequest, "token is required"))?;
    Ok((client, token))
}

/// A token response, never cached.
fn tokens(response: coffre_app::oauth::TokenResponse) -> Response {
    (no_store(), axum::Json(TokenDto::from(response))).into_response()
}

/// The token endpoint (RFC 6749 §3.2).
#[utoipa::path(
    operation_id = "token", post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "Tokens", body = TokenDto),
        (status = 400, description = "An RFC 6749 error", body = OAuthErrorDto),
        (status = 401, description = "Client authentication failed (`invalid_client`)", body = OAuthErrorDto),
        (status = 429, description = "An RFC 6749 error with `Retry-After`: `rate_limited` (too many requests from this client), `invalid_client` (too many failed client authentications) or, for the password grant, `invalid_grant` (too many failed logins for the account or address)", body = OAuthErrorDto, headers(("Retry-After" = String))),
    ))]
pub async fn token<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthFailure> {
    let run = async {
        let form: TokenForm = form(&headers, &body)?;
        let client = client_credentials(&headers, form.client_id, form.client_secret)?;
        let request = TokenRequest {
            client,
            grant_type: form.grant_type.unwrap_or_default(),
            code: form.code,
            redirect_uri: form.redirect_uri,
            code_verifier: form.code_verifier,
            refresh_token: form.refresh_token,
            username: form.username,
            password: form.password,
            totp_code: form.totp_code,
            scope: form.scope,
            client_ip,
        };
        state.service.token(request).await
    };
    Ok(tokens(run.await.map_err(failure(&headers))?))
}

/// Rotates a refresh token (the same as the `refresh_token` grant, with a JSON body). A
/// confidential client also authenticates with HTTP Basic.
#[utoipa::path(
    operation_id = "refresh", post, path = "/oauth/refresh", tag = "oauth",
    request_body = RefreshBody,
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is used", body = TokenDto),
        (status = 400, description = "`invalid_grant`: unknown, expired, revoked or reused (a reuse revokes the whole family); `invalid_request`: not such a JSON body", body = OAuthErrorDto),
        (status = 401, description = "`invalid_client`", body = OAuthErrorDto),
        (status = 429, description = "An RFC 6749 error with `Retry-After`: `rate_limited` (too many requests from this client), `invalid_client` (too many failed client authentications) or, for the password grant, `invalid_grant` (too many failed logins for the account or address)", body = OAuthErrorDto, headers(("Retry-After" = String))),
    ))]
pub async fn refresh<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthFailure> {
    let run = async {
        // Parsed here rather than by the JSON extractor: every answer of an OAuth endpoint is
        // an RFC 6749 error, a malformed body included.
        let body: RefreshBody = crate::extract::json::parse(&body).map_err(|_| {
            protocol(
                OAuthErrorCode::InvalidRequest,
                r#"the body must be {"refresh_token": "..."}"#,
            )
        })?;
        let client = basic_credentials(&headers)?;
        state
            .service
            .refresh(&body.refresh_token, client, client_ip)
            .await
    };
    Ok(tokens(run.await.map_err(failure(&headers))?))
}

/// Token revocation (RFC 7009): 200 whether or not the token existed.
#[utoipa::path(
    operation_id = "revoke", post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenParameterForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "`invalid_request`", body = OAuthErrorDto),
        (status = 401, description = "`invalid_client`", body = OAuthErrorDto),
        (status = 429, description = "An RFC 6749 error with `Retry-After`: `rate_limited` (too many requests from this client), `invalid_client` (too many failed client authentications) or, for the password grant, `invalid_grant` (too many failed logins for the account or address)", body = OAuthErrorDto, headers(("Retry-After" = String))),
    ))]
pub async fn revoke<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthFailure> {
    let run = async {
        let (client, token) = token_parameter(&headers, &body)?;
        state.service.revoke(&client, &token, client_ip).await
    };
    run.await.map_err(failure(&headers))?;
    Ok((StatusCode::OK, no_store()).into_response())
}

/// Token introspection (RFC 7662), for resource servers: confidential clients registered with
/// `--introspect`.
#[utoipa::path(
    operation_id = "introspect", post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenParameterForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_basic" = [])),
    responses(
        (status = 200, description = "`{\"active\": false}` for anything not active; otherwise the token's claims", body = Object),
        (status = 400, description = "`invalid_request`", body = OAuthErrorDto),
        (status = 401, description = "`invalid_client`: client authentication failed, or the client is not registered as a resource server (`coffre admin create-client --introspect`)", body = OAuthErrorDto),
        (status = 429, description = "An RFC 6749 error with `Retry-After`: `rate_limited` (too many requests from this client), `invalid_client` (too many failed client authentications) or, for the password grant, `invalid_grant` (too many failed logins for the account or address)", body = OAuthErrorDto, headers(("Retry-After" = String))),
    ))]
pub async fn introspect<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthFailure> {
    let run = async {
        let (client, token) = token_parameter(&headers, &body)?;
        state.service.introspect(&client, &token, client_ip).await
    };
    let introspection = run.await.map_err(failure(&headers))?;
    Ok((no_store(), axum::Json(introspection_json(&introspection))).into_response())
}

/// The public keys that verify Coffre's tokens (RFC 7517).
#[utoipa::path(
    operation_id = "jwks", get, path = "/oauth/jwks", tag = "oauth",
    security(()),
    responses((status = 200, description = "JWK set", body = Object)))]
pub async fn jwks<S: Storage, C: Clock>(State(state): State<AppState<S, C>>) -> Response {
    // Short: clients refetch when they meet a new kid, and a rotation must spread quickly.
    let cache = [(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    )];
    (cache, axum::Json(state.service.jwks())).into_response()
}

/// OpenID Connect userinfo (OIDC Core §5.3): needs an access token with `openid`.
#[utoipa::path(
    operation_id = "userinfo", get, path = "/oauth/userinfo", tag = "oauth",
    security(("bearer" = ["openid"])),
    responses(
        (status = 200, description = "Claims about the user", body = Object),
        (status = 401, description = "No valid access token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the `openid` scope", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn userinfo<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let info = state.service.userinfo(&caller).await?;
    let mut body = serde_json::json!({"sub": info.sub});
    if let Some(username) = info.preferred_username {
        body["preferred_username"] = serde_json::Value::String(username);
    }
    Ok(axum::Json(body).into_response())
}

/// OpenID Connect userinfo by POST (OIDC Core §5.3 asks for both methods).
#[utoipa::path(
    operation_id = "userinfoPost", post, path = "/oauth/userinfo", tag = "oauth",
    security(("bearer" = ["openid"])),
    responses(
        (status = 200, description = "Claims about the user", body = Object),
        (status = 401, description = "No valid access token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the `openid` scope", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn userinfo_post<S: Storage, C: Clock>(
    state: State<AppState<S, C>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    userinfo(state, caller).await
}

/// OAuth 2.0 authorization server metadata (RFC 8414): the same document as the OpenID
/// Provider metadata.
#[utoipa::path(
    operation_id = "authorizationServerMetadata", get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    security(()),
    responses((status = 200, description = "Authorization server metadata", body = Object)))]
pub async fn server_metadata<S: Storage, C: Clock>(state: State<AppState<S, C>>) -> Response {
    discovery(state).await
}

/// Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery).
/// The password grant works for first-party clients but is not advertised (RFC 9700 §2.4).
#[utoipa::path(
    operation_id = "openidConfiguration", get, path = "/.well-known/openid-configuration", tag = "oauth",
    security(()),
    responses((status = 200, description = "Provider metadata", body = Object)))]
pub async fn discovery<S: Storage, C: Clock>(State(state): State<AppState<S, C>>) -> Response {
    let issuer = state.service.config().oauth.issuer.clone();
    let scopes: Vec<&str> = coffre_domain::oauth::Scope::ALL
        .iter()
        .map(|scope| scope.as_str())
        .collect();
    let body = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "jwks_uri": format!("{issuer}/oauth/jwks"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "preferred_username"],
    });
    axum::Json(body).into_response()
}
