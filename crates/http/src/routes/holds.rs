//! Holds: `POST /v1/accounts/{id}/holds`, `GET /v1/holds/{id}`, and capturing or releasing
//! one. The POSTs need an `Idempotency-Key`: their response is rendered inside the engine's
//! database transaction and stored with the key; a replay sends it again with
//! `Idempotency-Replayed: true`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use coffre_app::AppError;
use coffre_app::holds::RespondHold;
use coffre_app::ports::{Clock, Storage};
use coffre_domain::AccountId;
use coffre_domain::ledger::{Hold, HoldId};
use serde_json::Value;

use crate::dto::hold::{CaptureHoldBody, HoldDto, PlaceHoldBody, ReleaseHoldBody};
use crate::dto::transaction::TransactionDto;
use crate::error::{ApiError, Problem};
use crate::extract::idempotency_key::{JsonOrEmpty, parse_value};
use crate::extract::{Caller, IdPath, Idempotency, Json};
use crate::problem_responses::{
    Forbidden, KeyedBodyErrors, NotFound, Unauthenticated, UnauthenticatedOrStepUp,
};
use crate::state::AppState;
use crate::stored_response::{respond_transaction, send, stored_json, stored_problem};

/// A hold request's response: the hold with `status`, or the refusal.
fn respond_hold(status: StatusCode) -> RespondHold {
    Box::new(move |outcome: Result<Hold, AppError>| match outcome {
        Ok(hold) => stored_json(status, &HoldDto::from(&hold)),
        Err(error) => stored_problem(error.into()),
    })
}

/// Place a hold (card-style authorisation): it lowers `available`, not `current`, until it is
/// captured, released, or expires (default 7 days, at most 30). Owner, tellers, admins.
#[utoipa::path(
    operation_id = "placeHold", post, path = "/v1/accounts/{id}/holds", tag = "holds",
    params(("id" = uuid::Uuid, Path, description = "Account id"),
        ("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters; a retry with the same key and body replays the first response")),
    request_body = PlaceHoldBody,
    security(("session" = [])),
    responses(
        (status = 201, description = "Placed (a replay also carries `Idempotency-Replayed: true`)", body = HoldDto, headers(("Location" = String))),
        KeyedBodyErrors,
        (status = 409, description = "The first request with this key is still running (`idempotency_key_in_flight`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or expiry, or refused: `insufficient_funds`, `currency_mismatch`, `account_frozen`, `account_closed`, `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, NotFound,
    ))]
pub async fn place<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    idempotency: Idempotency,
    Json(value): Json<Value>,
) -> Result<Response, ApiError> {
    let body: PlaceHoldBody = parse_value(&value)?;
    let request = body.try_into_domain().map_err(ApiError::validation)?;
    let recorded = state
        .service
        .place_hold(
            &caller,
            AccountId(id),
            request,
            idempotency.request(&value),
            respond_hold(StatusCode::CREATED),
        )
        .await?;
    Ok(send(recorded, "/v1/holds"))
}

/// A hold: the account's owner, or staff.
#[utoipa::path(
    operation_id = "getHold", get, path = "/v1/holds/{id}", tag = "holds",
    params(("id" = uuid::Uuid, Path, description = "Hold id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "The hold", body = HoldDto),
        Unauthenticated, NotFound,
    ))]
pub async fn get<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
) -> Result<axum::Json<HoldDto>, ApiError> {
    let hold = state.service.get_hold(&caller, HoldId(id)).await?;
    Ok(axum::Json(HoldDto::from(&hold)))
}

/// Capture an active hold, all of it or part of it (`amount`): books a `HOLD_CAPTURE`
/// transaction; the rest of the hold is freed. The body may be empty.
#[utoipa::path(
    operation_id = "captureHold", post, path = "/v1/holds/{id}/capture", tag = "holds",
    params(("id" = uuid::Uuid, Path, description = "Hold id"),
        ("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters; a retry with the same key and body replays the first response")),
    request_body(content = Option<CaptureHoldBody>, description = "Optional amount; an empty body captures the whole hold"),
    security(("session" = [])),
    responses(
        (status = 201, description = "The capture transaction (a replay also carries `Idempotency-Replayed: true`)", body = TransactionDto, headers(("Location" = String))),
        KeyedBodyErrors,
        (status = 409, description = "The hold is no longer active (`conflict`); key in flight (`idempotency_key_in_flight`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid amount (more than the hold), refused by the account (`account_frozen`, `limit_exceeded`...), or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        UnauthenticatedOrStepUp, Forbidden, NotFound,
    ))]
pub async fn capture<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    idempotency: Idempotency,
    JsonOrEmpty(value): JsonOrEmpty,
) -> Result<Response, ApiError> {
    let body: CaptureHoldBody = parse_value(&value)?;
    let amount = body.try_into_domain().map_err(ApiError::validation)?;
    let recorded = state
        .service
        .capture_hold(
            &caller,
            HoldId(id),
            amount,
            idempotency.request(&value),
            respond_transaction(),
        )
        .await?;
    Ok(send(recorded, "/v1/transactions"))
}

/// Release an active hold without moving money. The body is empty.
#[utoipa::path(
    operation_id = "releaseHold", post, path = "/v1/holds/{id}/release", tag = "holds",
    params(("id" = uuid::Uuid, Path, description = "Hold id"),
        ("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters; a retry with the same key replays the first response")),
    security(("session" = [])),
    responses(
        (status = 200, description = "The released hold (a replay also carries `Idempotency-Replayed: true`)", body = HoldDto),
        (status = 400, description = "`Idempotency-Key` missing (`idempotency_key_missing`) or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hold is no longer active (`conflict`); key in flight (`idempotency_key_in_flight`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, NotFound,
    ))]
pub async fn release<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    idempotency: Idempotency,
    JsonOrEmpty(value): JsonOrEmpty,
) -> Result<Response, ApiError> {
    let _: ReleaseHoldBody = parse_value(&value)?;
    let recorded = state
        .service
        .release_hold(
            &caller,
            HoldId(id),
            idempotency.request(&value),
            respond_hold(StatusCode::OK),
        )
        .await?;
    Ok(send(recorded, "/v1/holds"))
}
