//! Reusable OpenAPI descriptions of the problem responses many operations share, so that each
//! handler's annotation lists only what is specific to it. The types are never built: they
//! exist for their `IntoResponses` implementations.

use utoipa::IntoResponses;

use crate::error::Problem;

/// 401 `unauthenticated`.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Not authenticated (`unauthenticated`)",
    content_type = "application/problem+json"
)]
pub struct Unauthenticated(#[to_schema] pub Problem);

/// 401 `unauthenticated`, or `mfa_required` for money leaving a customer's account.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Not authenticated (`unauthenticated`), or a customer taking more than the step-up threshold out of their account without a one-time code given in the last few minutes (`mfa_required`, with `WWW-Authenticate: Bearer error=\"insufficient_user_authentication\"`)",
    content_type = "application/problem+json"
)]
pub struct UnauthenticatedOrStepUp(#[to_schema] pub Problem);

/// 403 `forbidden`.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "Your role does not allow this, or the CSRF token is missing (`forbidden`)",
    content_type = "application/problem+json"
)]
pub struct Forbidden(#[to_schema] pub Problem);

/// 404 `not_found`.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such resource, or not yours (`not_found`)",
    content_type = "application/problem+json"
)]
pub struct NotFound(#[to_schema] pub Problem);

/// 400 `malformed_request` (a header that cannot be parsed).
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "Malformed request (`malformed_request`)",
    content_type = "application/problem+json"
)]
pub struct BadRequest(#[to_schema] pub Problem);

/// 429 `rate_limited`: too many failed client authentications or logins from this client or
/// address.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "Too many failed attempts (`rate_limited`)",
    content_type = "application/problem+json",
    headers(("Retry-After" = String))
)]
pub struct TooManyAttempts(#[to_schema] pub Problem);

/// 412 `precondition_failed`.
#[derive(IntoResponses)]
#[response(
    status = 412,
    description = "The ETag does not match (`precondition_failed`)",
    content_type = "application/problem+json"
)]
pub struct PreconditionFailed(#[to_schema] pub Problem);

/// What a money-moving operation with an optional JSON body and an `Idempotency-Key` can
/// answer before its own rules run: 400 and 415.
#[derive(IntoResponses)]
pub enum KeyedBodyErrors {
    /// 400.
    #[response(
        status = 400,
        description = "Unparseable JSON, or `Idempotency-Key` missing (`idempotency_key_missing`) or malformed",
        content_type = "application/problem+json"
    )]
    Malformed(#[to_schema] Problem),
    /// 415.
    #[response(
        status = 415,
        description = "Body is not JSON (`unsupported_media_type`)",
        content_type = "application/problem+json"
    )]
    NotJson(#[to_schema] Problem),
}

/// What any operation with a JSON body can answer: 400, 413, 415, 422.
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// 400.
    #[response(
        status = 400,
        description = "Unparseable JSON or header (`malformed_request`)",
        content_type = "application/problem+json"
    )]
    Malformed(#[to_schema] Problem),
    /// 413.
    #[response(
        status = 413,
        description = "Body too large (`payload_too_large`)",
        content_type = "application/problem+json"
    )]
    TooLarge(#[to_schema] Problem),
    /// 415.
    #[response(
        status = 415,
        description = "Body is not JSON (`unsupported_media_type`)",
        content_type = "application/problem+json"
    )]
    NotJson(#[to_schema] Problem),
    /// 422.
    #[response(
        status = 422,
        description = "Invalid, missing or unknown fields (`validation_failed` and the business codes)",
        content_type = "application/problem+json"
    )]
    Invalid(#[to_schema] Problem),
}

/// 422 on operations without a body (invalid query parameters).
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "Invalid query parameters (`validation_failed`)",
    content_type = "application/problem+json"
)]
pub struct InvalidQuery(#[to_schema] pub Problem);

/// 422 on a statement: an invalid month, or a PDF asked for a month longer than a PDF holds.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "Invalid query parameters (`validation_failed`), or a PDF asked for a month with more lines than a PDF statement holds (`statement_too_large`: download the CSV or JSON, which have no limit)",
    content_type = "application/problem+json"
)]
pub struct StatementInvalid(#[to_schema] pub Problem);

/// 503 when every PDF render of the node is busy for longer than the configured wait.
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "Too many PDF statements are being rendered on this node (`service_unavailable`); retry after `Retry-After` seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = String))
)]
pub struct RendersBusy(#[to_schema] pub Problem);
