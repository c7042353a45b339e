//! Query-string and path extractors whose rejections are problem+json.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::ApiError;

/// Query parameters of type `T`; a malformed or unknown parameter is a 422 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.inner().to_string();
                let field = match path.as_str() {
                    "." => message.split('`').nth(1).unwrap_or("query").to_owned(),
                    path => path.to_owned(),
                };
                ApiError::invalid(field, message)
            })
    }
}

/// A resource id from the path, in the one form Coffre writes: lower-case, hyphenated
/// (`0190b2a4-...`). Anything else (not a UUID, or a UUID spelled otherwise: upper-case,
/// braced, `urn:uuid:`, unhyphenated) names no resource: 404, so that one resource has one URL.
#[derive(Debug, Clone, Copy)]
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found())?;
        canonical_uuid(&raw)
            .map(IdPath)
            .ok_or_else(ApiError::not_found)
    }
}

/// `text` as a UUID if it is spelled canonically.
fn canonical_uuid(text: &str) -> Option<Uuid> {
    let id = Uuid::try_parse(text).ok()?;
    let mut buffer = Uuid::encode_buffer();
    (id.hyphenated().encode_lower(&mut buffer) == text).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::canonical_uuid;

    #[test]
    fn only_the_canonical_spelling_is_an_id() {
        let canonical = "0190b2a4-7c1e-7d3a-9f2b-1c2d3e4f5a6b";
        assert!(canonical_uuid(canonical).is_some());
        for other in [
            "0190B2A4-7C1E-7D3A-9F2B-1C2D3E4F5A6B",
            "{0190b2a4-7c1e-7d3a-9f2b-1c2d3e4f5a6b}",
            "urn:uuid:0190b2a4-7c1e-7d3a-9f2b-1c2d3e4f5a6b",
            "0190b2a47c1e7d3a9f2b1c2d3e4f5a6b",
            "not-a-uuid",
        ] {
            assert!(canonical_uuid(other).is_none(), "{other}");
        }
    }
}
