//! The authorization endpoint's answers that end a step: an error page for the user, or the
//! browser sent back to the client with a code or an RFC 6749 §4.1.2.1 error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::oauth::{AuthorizeError, ValidAuthorization};
use coffre_app::ports::{Clock, Storage};
use coffre_app::{AppError, Principal};

use crate::middleware::problem_fallback::ProtocolError;
use crate::pages::{ErrorPage, html};
use crate::state::AppState;

/// An error page for the user, never a redirect.
pub(super) fn error_page(status: StatusCode, message: &str) -> Response {
    html(status, &ErrorPage { message }, None)
}

/// 303 to `uri` with `params` added to its query.
fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{separator}{}", query.finish());
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "the redirect URI cannot be used"),
    }
}

/// Back to the client: its redirect URI with `params`, the issuer (RFC 9207) and its `state`.
pub(super) fn back_to_client<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    redirect_uri: &str,
    params: &[(&str, &str)],
    client_state: Option<&str>,
) -> Response {
    let issuer = state.service.config().oauth.issuer.clone();
    let mut params = params.to_vec();
    params.push(("iss", &issuer));
    if let Some(client_state) = client_state {
        params.push(("state", client_state));
    }
    redirect(redirect_uri, &params)
}

/// The client's answer for a refused request: back to it with `error` (and `state`, `iss`).
pub(super) fn refusal<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    error: AuthorizeError,
) -> Response {
    match error {
        AuthorizeError::NoRedirect(message) => error_page(StatusCode::BAD_REQUEST, &message),
        AuthorizeError::Redirect {
            redirect_uri,
            error,
            description,
            state: client_state,
        } => back_to_client(
            state,
            &redirect_uri,
            &[("error", error), ("error_description", &description)],
            client_state.as_deref(),
        ),
        AuthorizeError::App(error) => app_failure(error),
    }
}

/// A failure of the use case: a page for a throttled user, problem+json for the rest.
pub(super) fn app_failure(error: AppError) -> Response {
    match error {
        AppError::RateLimited { retry_after } => {
            let mut page = error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts. Wait a few minutes, then try again.",
            );
            page.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::error::retry_after_seconds(retry_after)),
            );
            page
        }
        other => {
            let mut response = crate::error::ApiError::from(other).into_response();
            response.extensions_mut().insert(ProtocolError);
            response
        }
    }
}

/// The code, sent back to the client.
pub(super) async fn approve<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    authorization: &ValidAuthorization,
    user: &Principal,
) -> Response {
    match state
        .service
        .issue_authorization_code(authorization, user)
        .await
    {
        Ok(code) => back_to_client(
            state,
            &authorization.redirect_uri,
            &[("code", &code)],
            authorization.state.as_deref(),
        ),
        Err(error) => app_failure(error),
    }
}
