//! Request rate limits, per client and route class (ADR 0013, ADR 0018).
//!
//! The client is the verified principal (the user behind a bearer token whose signature
//! verifies, or behind a live session cookie), else the address (after the trusted-proxy
//! rule). A made-up or unusable credential therefore counts against its sender's address, and
//! nobody can spend someone else's allowance. What was verified here is handed to the caller
//! extractors (`VerifiedCredential`), so the handler does not do the work a second time.
//! Route classes keep a burst of reads from using up the allowance for money movements:
//! `auth` (login and the OAuth endpoints), `write` and `read`, declared per operation in the
//! route table (`routes::table`). Health probes, metrics and CORS preflights are not counted.
//! Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset`; a refused one is 429 `rate_limited` with `Retry-After`. A shared limiter
//! that fails hands over to the in-process one (`fallback_limiter`); a limiter that still fails
//! lets the request through: an outage of the limiter must not become an outage of the bank.
//! Both are logged and counted.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coffre_app::AppError;
use coffre_app::auth::address_key;
use coffre_app::ports::{Clock, RateDecision, Storage};

use crate::error::ApiError;
use crate::extract::caller::{ClientIp, VerifiedCredential, bearer_token, cookie};
use crate::operation::RateClass;
use crate::routes::lookup::{answers_oauth_errors, rate_class};
use crate::routes::oauth_errors::oauth_rate_limited;
use crate::state::AppState;

/// The route class of a request for `method` on `path` (its matched route template, else its
/// raw path), from the route table, or `None` when it is not counted (also what the OpenAPI
/// document says of each operation).
pub(crate) fn route_class(method: &Method, path: &str) -> Option<&'static str> {
    rate_class(method, path).map(RateClass::as_str)
}

/// Who is asking, verified cheaply: a bearer token's signature (local, no store) or the
/// session behind the cookie (one lookup by key, which the caller extractor then reuses).
/// HTTP Basic client credentials are not checked here (that is an Argon2 hash, the token
/// endpoint's own work): they count against the address, like any unverified credential.
async fn verified_credential<S: Storage, C: Clock>(
    headers: &HeaderMap,
    state: &AppState<S, C>,
) -> Option<VerifiedCredential> {
    if headers.contains_key(header::AUTHORIZATION) {
        let token = bearer_token(headers).ok().flatten()?;
        return state
            .service
            .verify_access_token(token)
            .ok()
            .map(VerifiedCredential::Bearer);
    }
    let token = cookie(headers, state.session_cookie_name())?;
    match state.service.authenticate_session(token).await {
        Ok(session) => Some(VerifiedCredential::Session(session)),
        Err(AppError::Unauthenticated) => Some(VerifiedCredential::SessionRefused),
        // The store failed: the extractor will try again and answer its error.
        Err(_) => None,
    }
}

/// The limiter key of the request's client: its verified user, else its address.
fn client_key(verified: Option<&VerifiedCredential>, address: String) -> String {
    match verified.and_then(VerifiedCredential::user) {
        Some(user) => format!("user:{user}"),
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
    let path = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str(),
        None => request.uri().path(),
    };
    let oauth_protocol = answers_oauth_errors(path);
    let Some(class) = route_class(request.method(), path) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let ClientIp(ip) = ClientIp::of(&parts, &state.settings.trusted_proxies);
    let address = address_key(ip);
    let verified = verified_credential(&parts.headers, &state).await;
    let key = format!("{class}:{}", client_key(verified.as_ref(), address));
    if let Some(verified) = verified {
        parts.extensions.insert(verified);
    }
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
            let retry_after = seconds_up(refused.retry_after);
            if oauth_protocol {
                oauth_rate_limited(retry_after)
            } else {
                ApiError::rate_limited(retry_after).into_response()
            }
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
}
