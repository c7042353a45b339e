//! The authorization server's error answers: RFC 6749 §5.2 documents (`{error,
//! error_description}`), which OAuth client libraries read, the 429s of its throttles and of the
//! request rate limit included. Failures that are not protocol errors (an unavailable
//! database) stay problem documents.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::oauth::{OAuthError, OAuthErrorCode};

use crate::dto::oauth::OAuthErrorDto;
use crate::error::{ApiError, retry_after_seconds};
use crate::middleware::problem_fallback::ProtocolError;

/// An OAuth error response. `invalid_client` is a 401 with a `Basic` challenge when the client
/// tried HTTP Basic (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthFailure {
    pub(crate) error: OAuthError,
    pub(crate) basic_attempted: bool,
}

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        match self.error {
            OAuthError::Protocol { code, description } => {
                let status = if code == OAuthErrorCode::InvalidClient {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                };
                let mut response = oauth_error(status, code.as_str(), description);
                if status == StatusCode::UNAUTHORIZED {
                    let challenge = if self.basic_attempted {
                        r#"Basic realm="coffre""#
                    } else {
                        r#"Bearer realm="coffre""#
                    };
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                }
                response
            }
            OAuthError::Throttled { code, retry_after } => {
                let seconds = retry_after_seconds(retry_after);
                too_many(
                    code.as_str(),
                    format!("too many failed attempts; retry in {seconds} s"),
                    seconds,
                )
            }
            OAuthError::App(error) => ApiError::from(error).into_response(),
        }
    }
}

/// An RFC 6749 §5.2 error document, never cached, left as it is by the problem fallback.
fn oauth_error(status: StatusCode, error: &'static str, description: String) -> Response {
    let body = OAuthErrorDto {
        error,
        error_description: description,
    };
    let mut response = (status, no_store(), axum::Json(body)).into_response();
    response.extensions_mut().insert(ProtocolError);
    response
}

/// A 429 in the RFC 6749 error format, with `Retry-After`: the limit is not part of the
/// OAuth protocol, but its clients read `error`, not a problem document.
fn too_many(error: &'static str, description: String, retry_after_seconds: u64) -> Response {
    let mut response = oauth_error(StatusCode::TOO_MANY_REQUESTS, error, description);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    response
}

/// The request rate limit's refusal at the token, refresh, revocation and introspection
/// endpoints: 429 `rate_limited` (an extension error code, as problem documents name it).
pub(crate) fn oauth_rate_limited(retry_after_seconds: u64) -> Response {
    too_many(
        "rate_limited",
        "too many requests; retry later".to_owned(),
        retry_after_seconds.max(1),
    )
}

/// Tokens must never be cached (RFC 6749 §5.1).
pub(crate) fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

pub(crate) fn failure(headers: &HeaderMap) -> impl Fn(OAuthError) -> OAuthFailure + '_ {
    move |error| OAuthFailure {
        error,
        basic_attempted: headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.len() > 6 && value[..6].eq_ignore_ascii_case("basic ")),
    }
}
