//! `/v1/transactions`: moving money (one, or a batch), reversing, reading and listing.
//!
//! Every money-moving POST needs an `Idempotency-Key`. Its response is rendered inside the
//! engine's database transaction and stored there; the handler sends exactly those bytes, and
//! a replay sends them again with `Idempotency-Replayed: true`.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::ledger::{BatchItem, BatchOutcome, RespondBatch};
use coffre_app::ports::{Clock, Storage};
use coffre_domain::ledger::TransactionId;
use serde_json::Value;

use crate::dto::transaction::{ReverseBody, TransactionBody, TransactionDto, parse_label};
use crate::dto::transaction_batch::{BatchBody, BatchItemStatus, BatchResponseDto, BatchResultDto};
use crate::dto::transaction_list::{TransactionListDto, TransactionListQuery};
use crate::error::{ApiError, Problem};
use crate::extract::idempotency_key::{JsonOrEmpty, parse_value};
use crate::extract::{Caller, IdPath, Idempotency, Json, Query};
use crate::problem_responses::{
    Forbidden, InvalidQuery, KeyedBodyErrors, NotFound, Unauthenticated, UnauthenticatedOrStepUp,
};
use crate::state::AppState;
use crate::stored_response::{respond_transaction, send, stored_json};

/// The body limit of a batch: room for 1 000 transactions, whatever the general limit.
pub const BATCH_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// A batch's response: 200 with one result per transaction.
fn respond_batch() -> RespondBatch {
    Box::new(|outcome: BatchOutcome| {
        let results = outcome
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| batch_result(index, item))
            .collect();
        let dto = BatchResponseDto {
            atomic: outcome.atomic,
            committed: outcome.committed,
            results,
        };
        stored_json(StatusCode::OK, &dto)
    })
}

fn batch_result(index: usize, item: BatchItem) -> BatchResultDto {
    let (status, transaction, error): (_, _, Option<Problem>) = match item {
        BatchItem::Committed(t) => (
            BatchItemStatus::COMMITTED,
            Some(TransactionDto::from(&t)),
            None,
        ),
        BatchItem::Refused(error) => (
            BatchItemStatus::REFUSED,
            None,
            Some(ApiError::from(error).into_problem()),
        ),
        BatchItem::RolledBack => (BatchItemStatus::ROLLED_BACK, None, None),
    };
    BatchResultDto {
        index,
        status,
        transaction,
        error,
    }
}

/// Move money: a deposit (tellers), a withdrawal, or a transfer to an account of this bank.
#[utoipa::path(
    operation_id = "createTransaction", post, path = "/v1/transactions", tag = "transactions",
    params(("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters; a retry with the same key and body replays the first response")),
    request_body = TransactionBody,
    security(("session" = [])),
    responses(
        (status = 201, description = "Booked (a replay also carries `Idempotency-Replayed: true`)", body = TransactionDto, headers(("Location" = String))),
        KeyedBodyErrors,
        (status = 404, description = "No such account, or not yours (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this key is still running (`idempotency_key_in_flight`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or refused: `insufficient_funds`, `currency_mismatch`, `account_frozen`, `account_closed`, `limit_exceeded`, `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        UnauthenticatedOrStepUp, Forbidden,
    ))]
pub async fn create<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    idempotency: Idempotency,
    Json(value): Json<Value>,
) -> Result<Response, ApiError> {
    let body: TransactionBody = parse_value(&value)?;
    let request = body.try_into_domain("").map_err(ApiError::validation)?;
    let recorded = state
        .service
        .post_transaction(
            &caller,
            request,
            idempotency.request(&value),
            respond_transaction(),
        )
        .await?;
    Ok(send(recorded, "/v1/transactions"))
}

/// Move money in bulk: up to 1 000 transactions, each with its own result; `atomic: true`
/// writes all of them or none.
#[utoipa::path(
    operation_id = "createTransactionBatch", post, path = "/v1/transactions/batch", tag = "transactions",
    params(("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters; a retry with the same key and body replays the first response")),
    request_body = BatchBody,
    security(("session" = [])),
    responses(
        (status = 200, description = "One result per transaction (a replay also carries `Idempotency-Replayed: true`)", body = BatchResponseDto),
        KeyedBodyErrors,
        (status = 409, description = "The first request with this key is still running (`idempotency_key_in_flight`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`validation_failed`), or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ))]
pub async fn batch<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    idempotency: Idempotency,
    Json(value): Json<Value>,
) -> Result<Response, ApiError> {
    let body: BatchBody = parse_value(&value)?;
    let (atomic, requests) = body.try_into_domain().map_err(ApiError::validation)?;
    let recorded = state
        .service
        .post_batch(
            &caller,
            requests,
            atomic,
            idempotency.request(&value),
            respond_batch(),
        )
        .await?;
    Ok(send(recorded, "/v1/transactions"))
}

/// Reverse a completed transaction (tellers, admins) with a compensating transaction; the
/// original is marked `REVERSED`, never edited otherwise. The body may be empty.
#[utoipa::path(
    operation_id = "reverseTransaction", post, path = "/v1/transactions/{id}/reverse", tag = "transactions",
    params(("id" = uuid::Uuid, Path, description = "Transaction id"),
        ("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters; a retry with the same key and body replays the first response")),
    request_body(content = Option<ReverseBody>, description = "Optional label; an empty body is accepted"),
    security(("session" = [])),
    responses(
        (status = 201, description = "The reversal (a replay also carries `Idempotency-Replayed: true`)", body = TransactionDto, headers(("Location" = String))),
        KeyedBodyErrors,
        (status = 409, description = "Already reversed, or not reversible (`conflict`); key in flight (`idempotency_key_in_flight`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or refused by an account (`account_frozen`, `insufficient_funds`...), or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, NotFound,
    ))]
pub async fn reverse<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    idempotency: Idempotency,
    JsonOrEmpty(value): JsonOrEmpty,
) -> Result<Response, ApiError> {
    let body: ReverseBody = parse_value(&value)?;
    let label = parse_label("label", body.label).map_err(|e| ApiError::validation(vec![e]))?;
    let recorded = state
        .service
        .reverse_transaction(
            &caller,
            TransactionId(id),
            label,
            idempotency.request(&value),
            respond_transaction(),
        )
        .await?;
    Ok(send(recorded, "/v1/transactions"))
}

/// A transaction with its postings: staff, or the owner of its source or destination.
#[utoipa::path(
    operation_id = "getTransaction", get, path = "/v1/transactions/{id}", tag = "transactions",
    params(("id" = uuid::Uuid, Path, description = "Transaction id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "The transaction", body = TransactionDto),
        Unauthenticated, NotFound,
    ))]
pub async fn get<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
) -> Result<axum::Json<TransactionDto>, ApiError> {
    let transaction = state
        .service
        .get_transaction(&caller, TransactionId(id))
        .await?;
    Ok(axum::Json(TransactionDto::from(&transaction)))
}

/// List transactions, newest first (staff), with filters; keyset-paginated by `cursor`.
#[utoipa::path(
    operation_id = "listTransactions", get, path = "/v1/transactions", tag = "transactions",
    params(TransactionListQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "One page of transactions", body = TransactionListDto, headers(("Link" = String))),
        Unauthenticated, Forbidden, InvalidQuery,
    ))]
pub async fn list<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<TransactionListQuery>,
) -> Result<Response, ApiError> {
    let request = query.try_into_request().map_err(ApiError::validation)?;
    let page = state
        .service
        .list_transactions(&caller, request.filter, request.before, request.limit)
        .await?;
    let next_cursor = page.next_cursor.map(|id| id.to_string());
    let mut headers = HeaderMap::new();
    if let Some(link) = next_cursor.as_deref().and_then(|c| next_link(&uri, c)) {
        headers.insert(header::LINK, link);
    }
    let dto = TransactionListDto {
        items: page.items.iter().map(TransactionDto::from).collect(),
        next_cursor,
    };
    Ok((headers, axum::Json(dto)).into_response())
}

/// The `Link: <...>; rel="next"` of a keyset page: same path and filters, the next cursor.
fn next_link(uri: &axum::http::Uri, cursor: &str) -> Option<HeaderValue> {
    let mut query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(key, _)| key != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("cursor".to_owned(), cursor.to_owned()));
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    HeaderValue::from_str(&format!("<{}?{encoded}>; rel=\"next\"", uri.path())).ok()
}
