//! One structured log line and two metrics per request.
//!
//! The line holds method, route (the matched template, never the raw path, so no id or IBAN
//! leaks into logs or metric labels), status, latency, request id, user id and the client's
//! address (after the trusted-proxy rule, so a client cannot choose what is logged). Bodies,
//! headers, cookies and query strings are never logged.
//!
//! Every other line logged while the request is served (a failed login, a refused token, a
//! rate limit) is inside the `request` span, which carries the request id and the client's
//! address too: a security event can always be traced to where it came from.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use super::request_id::RequestId;
use crate::extract::caller::{ClientIp, UserSlot, client_ip};

/// Latency histogram buckets, in seconds (metrics are not money: floating point is fine here).
pub const LATENCY_BUCKETS_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The proxies whose `X-Forwarded-For` is believed (the same rule as everywhere else).
#[derive(Debug, Clone)]
pub struct TrustedProxies(pub Arc<[IpAddr]>);

/// Logs and measures the request.
pub async fn access_log(
    State(TrustedProxies(trusted_proxies)): State<TrustedProxies>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    let address = ClientIp(client_ip(&parts, &trusted_proxies));
    parts.extensions.insert(address);
    let client_ip = address.0.map(|ip| ip.to_string());
    let mut request = Request::from_parts(parts, body);
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let user = UserSlot::default();
    request.extensions_mut().insert(user.clone());

    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        client_ip = client_ip.as_deref()
    );
    let response = next.run(request).instrument(span).await;

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let user_id = user.0.get().map(ToString::to_string);
    tracing::info!(
        target: "coffre::access",
        method = %method,
        route = %route,
        status,
        latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        request_id = %request_id,
        user_id = user_id.as_deref(),
        client_ip = client_ip.as_deref(),
        "request"
    );
    let labels = [
        ("method", method_label(&method).to_owned()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    response
}

/// The method as a metric label: the standard ones by name, anything else as `OTHER`, so that
/// clients cannot create unbounded label values (and memory) with made-up methods.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
