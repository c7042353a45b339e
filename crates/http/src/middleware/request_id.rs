//! `X-Request-Id`: echoed when the client sends a sane one, generated (UUIDv7) otherwise.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// The request's id, available to handlers and the access log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A client-sent id is kept only if it is short and plain, so that it can be logged safely.
fn acceptable(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let plain = (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    plain.then_some(text)
}

/// Sets the request id on the request (header and extension) and on the response.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(acceptable)
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let header = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    request.headers_mut().insert(REQUEST_ID, header.clone());
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, header);
    response
}
