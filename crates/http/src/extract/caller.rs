//! Resolving the caller: from an `Authorization: Bearer` access token (checked against the
//! route's required scope), or from the session cookie (with CSRF enforced on writes).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use coffre_app::Principal;
use coffre_app::auth::AuthenticatedSession;
use coffre_app::ports::{AccessClaims, Clock, Storage};
use coffre_domain::UserId;

use crate::error::ApiError;
use crate::operation::MatchedOperation;
use crate::state::AppState;

/// The header that carries the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Filled by the caller extractor so that the access log can name the user.
#[derive(Debug, Clone, Default)]
pub struct UserSlot(pub Arc<OnceLock<UserId>>);

/// The authenticated session of the request (required: 401 otherwise).
#[derive(Debug, Clone)]
pub struct Session(pub AuthenticatedSession);

/// The authenticated caller (required: 401 otherwise).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// The caller if there is a valid session, `None` for anonymous requests.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Principal>);

/// A credential the rate-limit middleware already verified for this request, handed on so the
/// extractors below do not verify it again.
#[derive(Debug, Clone)]
pub(crate) enum VerifiedCredential {
    /// The bearer token's signature and lifetime verified; revocation and the user are still
    /// to be checked.
    Bearer(AccessClaims),
    /// The session cookie names a live session.
    Session(AuthenticatedSession),
    /// The session cookie names no live session.
    SessionRefused,
}

impl VerifiedCredential {
    /// The user the credential was issued to, if it verified.
    pub(crate) fn user(&self) -> Option<String> {
        match self {
            VerifiedCredential::Bearer(claims) => Some(claims.sub.clone()),
            VerifiedCredential::Session(session) => Some(session.principal.user_id.to_string()),
            VerifiedCredential::SessionRefused => None,
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the right-most
/// `X-Forwarded-For` hop that is not a trusted proxy. Hops further left were written by the
/// client itself and prove nothing, so they are never believed.
pub(crate) fn client_ip(parts: &Parts, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|hop| hop.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    Some(
        hops.into_iter()
            .rev()
            .find(|hop| !trusted_proxies.contains(hop))
            .unwrap_or(peer),
    )
}

/// The client's address (the throttle and rate-limit key, and what security lines log): see
/// [`client_ip`]. Resolved once per request by the access log, which leaves it in the
/// request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The address the access log resolved, or (outside the full router) resolved now.
    pub(crate) fn of(parts: &Parts, trusted_proxies: &[IpAddr]) -> ClientIp {
        parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or_else(|| ClientIp(client_ip(parts, trusted_proxies)))
    }
}

impl<S: Storage, C: Clock> FromRequestParts<AppState<S, C>> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, C>,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::of(parts, &state.settings.trusted_proxies))
    }
}

/// Names the caller for the access log.
fn record_user(parts: &Parts, principal: &Principal) {
    if let Some(slot) = parts.extensions.get::<UserSlot>() {
        let _ = slot.0.set(principal.user_id);
    }
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl<S: Storage, C: Clock> FromRequestParts<AppState<S, C>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, C>,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, state.session_cookie_name())
            .ok_or_else(|| ApiError::from(coffre_app::AppError::Unauthenticated))?;
        let session = match parts.extensions.get::<VerifiedCredential>() {
            Some(VerifiedCredential::Session(session)) => session.clone(),
            Some(VerifiedCredential::SessionRefused) => {
                return Err(ApiError::from(coffre_app::AppError::Unauthenticated));
            }
            _ => state.service.authenticate_session(token).await?,
        };
        if is_write(&parts.method) {
            let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !presented.is_some_and(|token| session.csrf_matches(token)) {
                return Err(ApiError::forbidden(
                    "missing or invalid X-CSRF-Token header",
                ));
            }
        }
        record_user(parts, &session.principal);
        Ok(Session(session))
    }
}

/// The access token of an `Authorization: Bearer` header (RFC 6750 §2.1); `Ok(None)` when the
/// request has no `Authorization` header, an error when it has one that is not a bearer token.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    match token {
        Some(token) => Ok(Some(token)),
        None => Err(ApiError::invalid_token()),
    }
}

/// The caller behind a bearer token, if the token may be used on this route: a token without
/// the route's scope is refused with 403 `insufficient_scope` (RFC 6750 §3.1).
async fn bearer_caller<S: Storage, C: Clock>(
    parts: &Parts,
    state: &AppState<S, C>,
    token: &str,
) -> Result<Principal, ApiError> {
    let verified = match parts.extensions.get::<VerifiedCredential>() {
        Some(VerifiedCredential::Bearer(claims)) => {
            state
                .service
                .authenticate_access_claims(claims.clone())
                .await
        }
        _ => state.service.authenticate_bearer(token).await,
    };
    let principal = verified.map_err(|error| match error {
        coffre_app::AppError::Unauthenticated => ApiError::invalid_token(),
        other => ApiError::from(other),
    })?;
    let required = parts
        .extensions
        .get::<MatchedOperation>()
        .and_then(|MatchedOperation(operation)| operation.scope());
    match required {
        Some(scope) if principal.has_scope(scope) => Ok(principal),
        Some(scope) => Err(ApiError::insufficient_scope(Some(scope))),
        None => Err(ApiError::insufficient_scope(None)),
    }
}

impl<S: Storage, C: Clock> FromRequestParts<AppState<S, C>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, C>,
    ) -> Result<Self, Self::Rejection> {
        let principal = match bearer_token(&parts.headers)? {
            Some(token) => bearer_caller(parts, state, token).await?,
            None => Session::from_request_parts(parts, state).await?.0.principal,
        };
        record_user(parts, &principal);
        Ok(Caller(principal))
    }
}

impl<S: Storage, C: Clock> FromRequestParts<AppState<S, C>> for MaybeCaller {
    type Rejection = ApiError;

    /// Anonymous when neither a token nor a session cookie is sent; a sent one must be valid
    /// (a cookie, on writes, with its CSRF token), so a stale credential never silently
    /// downgrades a teller's request to an anonymous one.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, C>,
    ) -> Result<Self, Self::Rejection> {
        let has_token = parts.headers.contains_key(header::AUTHORIZATION);
        if !has_token && cookie(&parts.headers, state.session_cookie_name()).is_none() {
            return Ok(MaybeCaller(None));
        }
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        Ok(MaybeCaller(Some(principal)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("other=1; coffre_session_x=2"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("coffre_session=abc"),
        );
        assert_eq!(cookie(&headers, "coffre_session"), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
