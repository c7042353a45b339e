//! `If-Match` (optimistic concurrency) and the `ETag`s it is compared with.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

use crate::error::ApiError;

/// The version a client expects, from `If-Match: "<version>"`; `None` when the header is
/// absent or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i64>);

/// The strong `ETag` of a resource version.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        parse(value.to_str().unwrap_or("")).map(IfMatch)
    }
}

/// Coffre issues one strong ETag per version, so `If-Match` carries `*` or one quoted version.
/// A weak tag cannot satisfy `If-Match` (RFC 9110 §13.1.1 uses strong comparison), so it is
/// a tag that never matches: `Some(-1)`.
fn parse(text: &str) -> Result<Option<i64>, ApiError> {
    let text = text.trim();
    if text == "*" {
        return Ok(None);
    }
    if text.starts_with("W/") {
        return Ok(Some(-1));
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map(|t| t.parse::<i64>().unwrap_or(-1))
        .map(Some)
        .ok_or_else(|| ApiError::malformed("If-Match must be * or a single quoted ETag"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_star_and_one_strong_tag() {
        assert_eq!(parse("*").ok(), Some(None));
        assert_eq!(parse("\"7\"").ok(), Some(Some(7)));
        assert_eq!(parse("W/\"7\"").ok(), Some(Some(-1)));
        assert_eq!(parse("\"abc\"").ok(), Some(Some(-1)));
        assert!(parse("7").is_err());
    }
}
