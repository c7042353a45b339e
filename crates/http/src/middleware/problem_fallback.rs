//! Turns the framework's plain error responses (unknown route, wrong method, timeout, body
//! limit, a panicking handler) into problem+json, so that every error a client sees has the
//! same shape and none shows internals.

use std::any::Any;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, PROBLEM_JSON};

/// Marks an error response whose shape another protocol fixes (RFC 6749's `{error,
/// error_description}`): the fallback leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub struct ProtocolError;

/// Replaces any error response that is not already a problem document.
pub async fn problem_fallback(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let deliberate = is_problem || response.extensions().get::<ProtocolError>().is_some();
    if !(status.is_client_error() || status.is_server_error()) || deliberate {
        return response;
    }
    // Only the body and its description are replaced: what the layers inside set stays
    // (`Allow`, the `RateLimit-*` headers).
    let (mut parts, _) = response.into_parts();
    let (problem, body) = ApiError::from_status(status).into_response().into_parts();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(problem.headers);
    Response::from_parts(parts, body)
}

/// A handler panicked (a bug): log it, answer a plain 500 problem, keep the server up.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "request handler panicked");
    ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}
