//! `/auth`: session login and logout.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::auth::Login;
use coffre_app::ports::{Clock, Storage};

use crate::dto::auth::{LoginBody, LoginDto, SessionUserDto};
use crate::dto::timestamp;
use crate::error::{ApiError, Problem};
pub use crate::extract::caller::ClientIp;
use crate::extract::caller::cookie;
use crate::extract::{Json, Session};
use crate::problem_responses::{JsonBodyErrors, Unauthenticated};
use crate::state::AppState;

pub(crate) fn session_cookie<S, C>(
    state: &AppState<S, C>,
    value: &str,
    max_age_seconds: i64,
) -> Option<HeaderValue>
where
    S: Storage,
    C: Clock,
{
    let secure = if state.settings.secure_transport {
        "; Secure"
    } else {
        ""
    };
    let name = state.session_cookie_name();
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_seconds}{secure}"
    ))
    .ok()
}

/// Log in: sets the session cookie and returns the CSRF token.
#[utoipa::path(
    operation_id = "login",post, path = "/auth/login", tag = "auth",
    request_body = LoginBody,
    security(()),
    responses(
        (status = 200, description = "Logged in; the session is in `Set-Cookie`", body = LoginDto,
            headers(("Set-Cookie" = String))),
        (status = 401, description = "Unknown user or wrong password (`unauthenticated`), or a missing or wrong one-time code for a user with TOTP enabled (`mfa_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures for this account or address", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = String))),
        JsonBodyErrors,
    ))]
pub async fn login<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let previous_session_token = cookie(&headers, state.session_cookie_name()).map(str::to_owned);
    let outcome = state
        .service
        .login(Login {
            username: body.username,
            password: body.password,
            client_ip,
            previous_session_token,
            one_time_code: body.totp_code,
        })
        .await?;
    let max_age = state
        .service
        .config()
        .session_absolute_timeout
        .whole_seconds();
    let mut response_headers = HeaderMap::new();
    if let Some(cookie) = session_cookie(&state, &outcome.session_token, max_age) {
        response_headers.insert(header::SET_COOKIE, cookie);
    }
    let principal = outcome.principal;
    let body = LoginDto {
        csrf_token: outcome.csrf_token,
        expires_at: timestamp::format(outcome.expires_at),
        user: SessionUserDto {
            id: principal.user_id.0,
            role: principal.role.as_str().to_owned(),
            customer_id: principal.customer_id.map(|c| c.0),
        },
    };
    Ok((StatusCode::OK, response_headers, axum::Json(body)).into_response())
}

/// Log out: ends the session on the server and clears the cookie.
#[utoipa::path(
    operation_id = "logout",post, path = "/auth/logout", tag = "auth",
    security(("session" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
    ))]
pub async fn logout<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Session(session): Session,
) -> Result<Response, ApiError> {
    state.service.logout(&session).await?;
    let mut headers = HeaderMap::new();
    if let Some(cookie) = session_cookie(&state, "", 0) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}
