//! Security headers on every response (OWASP Secure Headers).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The API answers JSON only: nothing may load, frame or run.
const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// The documentation page loads its own scripts, styles and images, nothing from elsewhere.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Whether to send HSTS (only when clients reach Coffre over HTTPS).
#[derive(Debug, Clone, Copy)]
pub struct Hsts(pub bool);

/// Adds the headers.
pub async fn security_headers(
    State(Hsts(hsts)): State<Hsts>,
    request: Request,
    next: Next,
) -> Response {
    let is_docs = request.uri().path().starts_with("/docs");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // A handler that set its own policy (the authorization pages) keeps it.
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(if is_docs {
            DOCS_CSP
        } else {
            API_CSP
        }));
    if !is_docs {
        // Account data must never sit in a shared or browser cache (the JWKS says otherwise).
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}
