//! `GET`/`POST /oauth/authorize`: the authorization endpoint (RFC 6749 §4.1). The request is
//! checked, then the user signs in (a login form protected by a double-submit CSRF cookie, then,
//! for a user with TOTP enabled, a one-time code form under the same cookie), then approves the
//! requested scopes (a consent form protected by the new session's CSRF token),
//! and the browser goes back to the client with a single-use code. First-party clients skip
//! the consent page. Until the client and its redirect URI are known good, errors are shown to
//! the user, never redirected.

mod answers;
mod form;
mod steps;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use coffre_app::auth::{random_token, secrets_match};
use coffre_app::ports::{Clock, Storage};

use self::answers::{error_page, refusal};
use self::form::AuthorizeForm;
use self::steps::{consent, login, one_time_code};
use crate::extract::caller::cookie;
use crate::pages::{LoginPage, html};
use crate::routes::auth::ClientIp;
use crate::state::AppState;

/// The login form's CSRF cookie lives this long: time enough to type a password.
const LOGIN_FORM_SECONDS: i64 = 600;

/// The login form's CSRF cookie (`__Host-` prefixed over HTTPS).
fn login_cookie_name<S: Storage, C: Clock>(state: &AppState<S, C>) -> &'static str {
    if state.settings.secure_transport {
        "__Host-coffre_authorize"
    } else {
        "coffre_authorize"
    }
}

/// Start of an authorization: checks the request and shows the login page.
#[utoipa::path(
    operation_id = "authorize", get, path = "/oauth/authorize", tag = "oauth",
    security(()),
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query),
        ("redirect_uri" = Option<String>, Query, description = "One the client registered, exactly"),
        ("scope" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("code_challenge" = String, Query, description = "PKCE S256 challenge"),
        ("code_challenge_method" = String, Query, description = "`S256`"),
        ("nonce" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The login page (HTML)", content_type = "text/html"),
        (status = 303, description = "Back to the client with an RFC 6749 §4.1.2.1 error"),
        (status = 400, description = "Unknown client or redirect URI: an error page, no redirect", content_type = "text/html"),
    ))]
pub async fn start<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(form) =
        serde_urlencoded::from_str::<AuthorizeForm>(query.as_deref().unwrap_or_default())
    else {
        return error_page(StatusCode::BAD_REQUEST, "malformed or repeated parameters");
    };
    let authorization = match state.service.check_authorization(&form.request()).await {
        Ok(authorization) => authorization,
        Err(error) => return refusal(&state, error),
    };
    let csrf = random_token();
    let page = LoginPage {
        client_name: &authorization.client.name,
        error: None,
        fields: form.fields("login", csrf.clone()),
    };
    let mut response = html(StatusCode::OK, &page, None);
    let secure = if state.settings.secure_transport {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={csrf}; HttpOnly; SameSite=Strict; Path=/; Max-Age={LOGIN_FORM_SECONDS}{secure}",
        login_cookie_name(&state)
    );
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The login and consent forms' submissions.
#[utoipa::path(
    operation_id = "authorizeSubmit", post, path = "/oauth/authorize", tag = "oauth",
    security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "The page's hidden fields, plus `username` and `password` (login) or `decision` (consent)"),
    responses(
        (status = 200, description = "The consent page, or the login page again after a failed attempt", content_type = "text/html"),
        (status = 303, description = "Back to the client with a code, or with an error"),
        (status = 400, description = "A form that is not this server's, or expired", content_type = "text/html"),
        (status = 429, description = "Too many attempts", content_type = "text/html",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ))]
pub async fn submit<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<AuthorizeForm>(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "malformed or repeated form fields");
    };
    let authorization = match state.service.check_authorization(&form.request()).await {
        Ok(authorization) => authorization,
        Err(error) => return refusal(&state, error),
    };
    let form_csrf_ok = || {
        let expected = cookie(&headers, login_cookie_name(&state));
        match (form.csrf_token.as_deref(), expected) {
            (Some(presented), Some(expected)) => secrets_match(presented, expected),
            _ => false,
        }
    };
    match form.action.as_deref() {
        Some("login" | "totp") if !form_csrf_ok() => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in form has expired or did not come from Coffre. Start again from the application.",
        ),
        Some("login") => login(&state, &headers, client_ip, &form, &authorization).await,
        Some("totp") => one_time_code(&state, &headers, client_ip, &form, &authorization).await,
        Some("consent") => consent(&state, &headers, &form, &authorization).await,
        _ => error_page(StatusCode::BAD_REQUEST, "unknown form"),
    }
}
