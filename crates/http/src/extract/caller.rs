//! Resolving the caller from the session cookie, and enforcing CSRF on cookie-authenticated
//! writes.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use coffre_app::Principal;
use coffre_app::auth::AuthenticatedSession;
use coffre_app::ports::{Clock, Storage};
use coffre_domain::UserId;

use crate::error::ApiError;
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
        let session = state.service.authenticate_session(token).await?;
        if is_write(&parts.method) {
            let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !presented.is_some_and(|token| session.csrf_matches(token)) {
                return Err(ApiError::forbidden(
                    "missing or invalid X-CSRF-Token header",
                ));
            }
        }
        if let Some(slot) = parts.extensions.get::<UserSlot>() {
            let _ = slot.0.set(session.principal.user_id);
        }
        Ok(Session(session))
    }
}

impl<S: Storage, C: Clock> FromRequestParts<AppState<S, C>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, C>,
    ) -> Result<Self, Self::Rejection> {
        let Session(session) = Session::from_request_parts(parts, state).await?;
        Ok(Caller(session.principal))
    }
}

impl<S: Storage, C: Clock> FromRequestParts<AppState<S, C>> for MaybeCaller {
    type Rejection = ApiError;

    /// Anonymous when no session cookie is sent; a sent cookie must be valid (and, on writes,
    /// come with its CSRF token), so a stale session never silently downgrades a teller's
    /// request to an anonymous one.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, C>,
    ) -> Result<Self, Self::Rejection> {
        if cookie(&parts.headers, state.session_cookie_name()).is_none() {
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
