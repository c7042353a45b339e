//! The `Idempotency-Key` header, the canonical form of the request it guards, and a JSON body
//! that may be left empty.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use coffre_app::AppError;
use coffre_app::idempotency::{IdempotencyKey, IdempotentRequest};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::Json;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The response header marking a replayed response.
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";

/// A required `Idempotency-Key`, with the method and path it was sent with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    key: IdempotencyKey,
    method: String,
    path: String,
}

impl Idempotency {
    /// The idempotent request: the key and the fingerprint of this method, path and body.
    pub fn request(&self, body: &Value) -> IdempotentRequest {
        IdempotentRequest::new(
            self.key.clone(),
            &self.method,
            &self.path,
            &canonical_json(body),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(IDEMPOTENCY_KEY)
            .ok_or_else(|| ApiError::from(AppError::IdempotencyKeyMissing))?;
        let key = value
            .to_str()
            .ok()
            .and_then(|text| IdempotencyKey::parse(text).ok())
            .ok_or_else(|| {
                ApiError::malformed("Idempotency-Key must be 1 to 255 printable ASCII characters")
            })?;
        Ok(Idempotency {
            key,
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
        })
    }
}

/// JSON with object keys sorted at every level, so that two encodings of one request (key
/// order, whitespace) fingerprint alike.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A JSON body, or `{}` when the body is empty (a POST whose fields are all optional).
#[derive(Debug, Clone)]
pub struct JsonOrEmpty(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonOrEmpty {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
                } else {
                    ApiError::malformed("the request body could not be read")
                }
            })?;
        if bytes.is_empty() {
            return Ok(JsonOrEmpty(Value::Object(serde_json::Map::new())));
        }
        // Not empty: the usual JSON rules (media type, syntax) apply.
        let mut rebuilt = Request::new(Body::from(bytes));
        *rebuilt.headers_mut() = headers;
        let Json(value) = Json::<Value>::from_request(rebuilt, state).await?;
        Ok(JsonOrEmpty(value))
    }
}

/// Parses a JSON value as `T`, with the body extractor's errors (422 naming the field).
pub fn parse_value<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, ApiError> {
    let bytes = serde_json::to_vec(value).map_err(|_| ApiError::malformed("invalid JSON"))?;
    crate::extract::json::parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() -> Result<(), serde_json::Error> {
        let a: Value = serde_json::from_str(r#"{"b": [ {"y": 1, "x": "é"} ], "a": null}"#)?;
        let b: Value = serde_json::from_str(r#"{"a":null,"b":[{"x":"é","y":1}]}"#)?;
        assert_eq!(canonical_json(&a), r#"{"a":null,"b":[{"x":"é","y":1}]}"#);
        assert_eq!(canonical_json(&a), canonical_json(&b));
        Ok(())
    }
}
