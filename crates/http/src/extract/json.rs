//! Coffre's JSON body extractor: every rejection is a problem+json with the contract's code.
//!
//! - wrong or missing `Content-Type` → 415 `unsupported_media_type`
//! - body over the limit → 413 `payload_too_large`
//! - unparseable JSON → 400 `malformed_request`
//! - well-formed JSON of the wrong shape (not an object, a key repeated at any depth, a
//!   missing, unknown or mistyped field) → 422 `validation_failed`, naming the field
//!
//! The object and repeated-key checks run on the raw bytes, before any typed parse: a body
//! parsed as a `serde_json::Value` (kept for idempotency fingerprints) silently keeps the last
//! of two equal keys, and serde's derived structs accept an array in place of an object.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::extract::json_shape::ObjectBody;

/// A JSON request body of type `T` (which should `deny_unknown_fields`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
                } else {
                    ApiError::malformed("the request body could not be read")
                }
            })?;
        parse(&bytes).map(Json)
    }
}

/// `application/json` or any `application/*+json`, with optional parameters.
fn is_json(content_type: Option<&axum::http::HeaderValue>) -> bool {
    let Some(mime) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses `bytes` as `T`, telling syntax errors (400) from shape errors (422).
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let ObjectBody = deserialize(bytes)?;
    deserialize(bytes)
}

/// One typed pass over `bytes`, with the errors above.
fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = without_position(&inner.to_string());
                ApiError::invalid(field_of(&path, &message), message)
            }
            _ => ApiError::malformed("the request body is not valid JSON"),
        }
    })?;
    // One JSON value and nothing else: `{...} garbage` is not valid JSON.
    deserializer
        .end()
        .map_err(|_| ApiError::malformed("the request body has data after its JSON value"))?;
    Ok(value)
}

/// serde's messages end with " at line L column C", which means nothing to API clients.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// The field a shape error is about. serde reports an unknown field at its own path, but a
/// missing or repeated field at its parent's path, naming it only in the message ("missing
/// field `x`", "duplicate field `x`").
fn field_of(path: &str, message: &str) -> String {
    let named = (message.starts_with("missing field") || message.starts_with("duplicate field"))
        .then(|| message.split('`').nth(1))
        .flatten();
    match (path, named) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (path, None) => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        city: String,
    }

    #[test]
    fn shape_errors_name_the_field() {
        let field = |json: &str| {
            parse::<Body>(json.as_bytes())
                .err()
                .map(|e| (e.status(), format!("{e:?}")))
        };
        let missing = field(r#"{"name": "a", "inner": {}}"#);
        assert!(
            missing.as_ref().is_some_and(
                |(s, d)| *s == StatusCode::UNPROCESSABLE_ENTITY && d.contains("inner.city")
            ),
            "{missing:?}"
        );
        let unknown = field(r#"{"name": "a", "inner": {"city": "x"}, "admin": true}"#);
        assert!(
            unknown
                .as_ref()
                .is_some_and(|(_, d)| d.contains("field: \"admin\"")),
            "{unknown:?}"
        );
        let syntax = field(r#"{"name": "a""#);
        assert!(syntax.is_some_and(|(s, _)| s == StatusCode::BAD_REQUEST));
        let trailing = field(r#"{"name": "a", "inner": {"city": "x"}} garbage {"#);
        assert!(trailing.is_some_and(|(s, _)| s == StatusCode::BAD_REQUEST));
    }

    #[test]
    fn json_media_types_are_recognised() {
        let value = |s: &'static str| axum::http::HeaderValue::from_static(s);
        assert!(is_json(Some(&value("application/json; charset=utf-8"))));
        assert!(is_json(Some(&value("application/merge-patch+json"))));
        assert!(!is_json(Some(&value("text/plain"))));
        assert!(!is_json(None));
    }
}
