//! Responses stored under an `Idempotency-Key`: rendered inside the engine's database
//! transaction, sent exactly as stored, and replayed with `Idempotency-Replayed: true`.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::AppError;
use coffre_app::ledger::{Recorded, RespondOne};
use coffre_app::ports::StoredResponse;
use coffre_domain::ledger::Transaction;
use serde::Serialize;
use serde_json::Value;

use crate::dto::transaction::TransactionDto;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::extract::idempotency_key::IDEMPOTENCY_REPLAYED;

/// A JSON body to store.
pub(crate) fn stored_json<T: Serialize>(status: StatusCode, value: &T) -> StoredResponse {
    match serde_json::to_vec(value) {
        Ok(body) => StoredResponse {
            status: status.as_u16(),
            content_type: "application/json".to_owned(),
            body,
        },
        Err(error) => stored_problem(ApiError::from(AppError::Unknown(error.into()))),
    }
}

/// A problem document to store.
pub(crate) fn stored_problem(error: ApiError) -> StoredResponse {
    StoredResponse {
        status: error.status().as_u16(),
        content_type: PROBLEM_JSON.to_owned(),
        body: serde_json::to_vec(&error.into_problem()).unwrap_or_default(),
    }
}

/// A response that books one transaction: 201 with it, or the refusal.
pub(crate) fn respond_transaction() -> RespondOne {
    Box::new(|outcome: Result<Transaction, AppError>| match outcome {
        Ok(transaction) => stored_json(StatusCode::CREATED, &TransactionDto::from(&transaction)),
        Err(error) => stored_problem(error.into()),
    })
}

/// Sends a stored response as it was first sent, with `Location: <collection>/<id>` for a
/// creation and the replay marker.
pub(crate) fn send(recorded: Recorded, collection: &str) -> Response {
    let (stored, replayed) = match recorded {
        Recorded::Fresh(stored) => (stored, false),
        Recorded::Replayed(stored) => (stored, true),
    };
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    if let Ok(content_type) = HeaderValue::from_str(&stored.content_type) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    if status == StatusCode::CREATED {
        if let Some(location) = location_of(&stored.body, collection) {
            headers.insert(header::LOCATION, location);
        }
    }
    if replayed {
        headers.insert(
            HeaderName::from_static(IDEMPOTENCY_REPLAYED),
            HeaderValue::from_static("true"),
        );
    }
    (status, headers, stored.body).into_response()
}

/// `<collection>/<id>` of a created resource's body.
fn location_of(body: &[u8], collection: &str) -> Option<HeaderValue> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let id = value.get("id")?.as_str()?;
    HeaderValue::from_str(&format!("{collection}/{id}")).ok()
}
