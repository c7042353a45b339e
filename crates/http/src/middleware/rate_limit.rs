//! Request rate limits, per client and route class (ADR 0013).
//!
//! The client is the credential presented (a bearer token, HTTP Basic client credentials or
//! the session cookie), by its SHA-256, or else the address. Route classes keep a burst of
//! reads from using up the allowance for money movements: `auth` (login and the OAuth
//! endpoints), `write` and `read`. Health probes, metrics and CORS preflights are not counted.
//! Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset`; a refused one is 429 `rate_limited` with `Retry-After`. A shared limiter
//! that fails hands over to the in-process one (`fallback_limiter`); a limiter that still fails
//! lets the request through: an outage of the limiter must not become an outage of the bank.
//! Both are logged and counted.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coffre_app::auth::address_key;
use coffre_app::ports::{Clock, RateDecision, Storage};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::caller::{client_ip, cookie};
use crate::state::AppState;

/// The route class of a request, or `None` when it is not counted (also what the OpenAPI
/// document says of each operation).
pub(crate) fn route_class(method: &Method, path: &str) -> Option<&'static str> {
    if *method == Method::OPTIONS || path.starts_with("/health/") || path == "/metrics" {
        return None;
    }
    if path.starts_with("/auth/")
        || path.starts_with("/oauth/")
        || path.starts_with("/.well-known/")
    {
        return Some("auth");
    }
    if *method == Method::GET || *method == Method::HEAD {
        Some("read")
    } else {
        Some("write")
    }
}

/// Who is asking: the hash of the credential presented, else the address. The credential is
/// not verified here (the handler does that); a forged one only earns its own bucket and a 401.
fn client_key(headers: &HeaderMap, session_cookie: &str, address: String) -> String {
    let credential = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .or_else(|| cookie(headers, session_cookie).map(str::as_bytes));
    match credential {
        Some(credential) => {
            let digest = Sha256::digest(credential);
            let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!("client:{hex}")
        }
        None => address,
    }
}

fn seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

fn set_headers(headers: &mut HeaderMap, decision: &RateDecision) {
    for (name, value) in [
        ("ratelimit-limit", u64::from(decision.limit)),
        ("ratelimit-remaining", u64::from(decision.remaining)),
        ("ratelimit-reset", seconds_up(decision.reset_after)),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// Counts the request against its client's allowance for its route class.
pub async fn rate_limit<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(class) = route_class(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let address = address_key(client_ip(&parts, &state.settings.trusted_proxies));
    let key = format!(
        "{class}:{}",
        client_key(&parts.headers, state.session_cookie_name(), address)
    );
    let request = Request::from_parts(parts, body);
    let decision = match state.limiter.check(&key).await {
        Ok(decision) => Some(decision),
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "rate limiter unavailable: request let through"
            );
            metrics::counter!("coffre_rate_limiter_unavailable_total").increment(1);
            None
        }
    };
    let mut response = match decision {
        Some(refused) if !refused.allowed => {
            tracing::info!(event = "rate_limited", class, "request refused: rate limit");
            ApiError::rate_limited(seconds_up(refused.retry_after)).into_response()
        }
        _ => next.run(request).await,
    };
    if let Some(decision) = decision {
        set_headers(response.headers_mut(), &decision);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_classes_and_probes_are_not_counted() {
        assert_eq!(route_class(&Method::GET, "/health/ready"), None);
        assert_eq!(route_class(&Method::GET, "/metrics"), None);
        assert_eq!(route_class(&Method::OPTIONS, "/v1/accounts"), None);
        assert_eq!(route_class(&Method::POST, "/oauth/token"), Some("auth"));
        assert_eq!(route_class(&Method::POST, "/auth/login"), Some("auth"));
        assert_eq!(route_class(&Method::GET, "/v1/accounts"), Some("read"));
        assert_eq!(
            route_class(&Method::POST, "/v1/transactions"),
            Some("write")
        );
    }

    #[test]
    fn a_credential_names_the_client_and_its_absence_the_address() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            client_key(&headers, "coffre_session", "ip:192.0.2.1".into()),
            "ip:192.0.2.1"
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("coffre_session=abc"),
        );
        let by_cookie = client_key(&headers, "coffre_session", "ip:192.0.2.1".into());
        assert!(by_cookie.starts_with("client:") && !by_cookie.contains("abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        let by_token = client_key(&headers, "coffre_session", "ip:192.0.2.1".into());
        assert_ne!(by_token, by_cookie);
    }
}
