//! The one error type of the HTTP layer, rendered as RFC 9457 `application/problem+json`.
//!
//! Every failure a client can see goes through [`ApiError`]: use-case errors, extractor
//! rejections, and (through the problem fallback middleware) the framework's own plain
//! responses. Internal errors are logged with their cause and answered with a generic detail:
//! no stack trace, SQL or secret ever reaches a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::{AppError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field, as sent to clients.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's path, e.g. `address.city`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An RFC 9457 problem document with Coffre's stable `code`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:coffre:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for a human.
    pub detail: String,
    /// The stable machine-readable code (see the API contract).
    pub code: String,
    /// For `validation_failed`: each invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    retry_after_seconds: Option<i64>,
    /// A `WWW-Authenticate` challenge other than the default one.
    challenge: Option<String>,
}

/// A `Retry-After` in whole seconds, rounded up (retrying a fraction of a second early would
/// only fail again), at least 1.
pub(crate) fn retry_after_seconds(retry_after: time::Duration) -> u64 {
    let seconds = retry_after.whole_seconds() + i64::from(retry_after.subsec_nanoseconds() > 0);
    u64::try_from(seconds).unwrap_or(0).max(1)
}

impl ApiError {
    /// An error with a status, a contract code and a detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_seconds: None,
            challenge: None,
        }
    }

    /// 401 for a bearer token that is malformed, expired, revoked or not Coffre's (RFC 6750
    /// §3.1 `invalid_token`).
    pub fn invalid_token() -> Self {
        ApiError {
            challenge: Some(r#"Bearer realm="coffre", error="invalid_token""#.to_owned()),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the access token is invalid, expired or revoked",
            )
        }
    }

    /// 403 for a valid access token without the scope this operation needs (RFC 6750 §3.1
    /// `insufficient_scope`); `None` when the operation is not open to access tokens at all.
    pub fn insufficient_scope(scope: Option<coffre_domain::oauth::Scope>) -> Self {
        let (challenge, detail) = match scope {
            Some(scope) => (
                format!(r#"Bearer realm="coffre", error="insufficient_scope", scope="{scope}""#),
                format!("the access token lacks the `{scope}` scope"),
            ),
            None => (
                r#"Bearer realm="coffre", error="insufficient_scope""#.to_owned(),
                "this operation is not available to access tokens".to_owned(),
            ),
        };
        ApiError {
            challenge: Some(challenge),
            ..ApiError::forbidden(detail)
        }
    }

    /// 401 `mfa_required`. A step-up refusal carries the RFC 9470 challenge, which tells an
    /// OAuth client to send the user back through the authorization endpoint for a fresh
    /// login with a one-time code.
    pub fn mfa_required(requirement: coffre_app::MfaRequirement) -> Self {
        let challenge = match requirement {
            coffre_app::MfaRequirement::StepUp { max_age_s } => format!(
                r#"Bearer realm="coffre", error="insufficient_user_authentication", error_description="a recent login with a one-time code is required", max_age="{max_age_s}""#
            ),
            _ => r#"Cookie realm="coffre", form-action="/auth/login", totp_code="required""#
                .to_owned(),
        };
        ApiError {
            challenge: Some(challenge),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                "mfa_required",
                requirement.to_string(),
            )
        }
    }

    /// 429 `rate_limited`, retry after `seconds` (at least one).
    pub fn rate_limited(seconds: u64) -> Self {
        ApiError {
            retry_after_seconds: Some(i64::try_from(seconds.max(1)).unwrap_or(i64::MAX)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; retry later",
            )
        }
    }

    /// 503 `service_unavailable`, retry after `seconds` (at least one).
    pub fn service_unavailable(detail: impl Into<String>, seconds: u64) -> Self {
        ApiError {
            retry_after_seconds: Some(i64::try_from(seconds.max(1)).unwrap_or(i64::MAX)),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                detail,
            )
        }
    }

    /// 400 `malformed_request`.
    pub fn malformed(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", detail)
    }

    /// 422 `validation_failed` with field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        ApiError {
            errors,
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "the request has invalid fields",
            )
        }
    }

    /// 422 `validation_failed` on one field.
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        ApiError::validation(vec![FieldError::new(field, message)])
    }

    /// 403 `forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// The error a bare framework status stands for (used by the problem fallback).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, detail) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this method is not allowed on this resource",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "the request body must be application/json",
            ),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "authentication required"),
            StatusCode::FORBIDDEN => ("forbidden", "not allowed"),
            StatusCode::REQUEST_TIMEOUT
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => (
                "service_unavailable",
                "the service could not answer in time; retry later",
            ),
            s if s.is_client_error() => {
                ("malformed_request", "the request could not be understood")
            }
            _ => ("internal", "an unexpected error occurred"),
        };
        let status = match status {
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            s => s,
        };
        ApiError::new(status, code, detail)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }

    /// The problem document (batch results embed one per refused item).
    pub fn into_problem(self) -> Problem {
        Problem {
            problem_type: format!("urn:coffre:problem:{}", self.code),
            title: self.title().to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
            errors: self
                .errors
                .into_iter()
                .map(|e| ProblemField {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        use StatusCode as S;
        match error {
            AppError::Validation(errors) => ApiError::validation(errors),
            AppError::Unauthenticated => ApiError::new(
                S::UNAUTHORIZED,
                "unauthenticated",
                "authentication required",
            ),
            AppError::MfaRequired(requirement) => ApiError::mfa_required(requirement),
            AppError::Forbidden => ApiError::forbidden("your role does not allow this"),
            AppError::NotFound => ApiError::not_found(),
            AppError::Conflict(detail) => ApiError::new(S::CONFLICT, "conflict", detail),
            AppError::Duplicate(_) => ApiError::new(S::CONFLICT, "conflict", error.to_string()),
            AppError::PreconditionFailed => ApiError::new(
                S::PRECONDITION_FAILED,
                "precondition_failed",
                error.to_string(),
            ),
            AppError::CurrencyMismatch => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "currency_mismatch",
                error.to_string(),
            ),
            AppError::AccountFrozen => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "account_frozen", error.to_string())
            }
            AppError::AccountClosed => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "account_closed", error.to_string())
            }
            AppError::AccountNotEmpty => {
                ApiError::new(S::CONFLICT, "account_not_empty", error.to_string())
            }
            AppError::InsufficientFunds => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "insufficient_funds",
                error.to_string(),
            ),
            AppError::LimitExceeded(detail) => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "limit_exceeded", detail)
            }
            AppError::StatementTooLarge { .. } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "statement_too_large",
                error.to_string(),
            ),
            AppError::IdempotencyKeyMissing => {
                ApiError::new(S::BAD_REQUEST, "idempotency_key_missing", error.to_string())
            }
            AppError::IdempotencyKeyReused => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                error.to_string(),
            ),
            AppError::IdempotencyKeyInFlight => {
                ApiError::new(S::CONFLICT, "idempotency_key_in_flight", error.to_string())
            }
            AppError::RateLimited { retry_after } => ApiError {
                detail: "too many attempts; retry later".to_owned(),
                ..ApiError::rate_limited(retry_after_seconds(retry_after))
            },
            AppError::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "dependency unavailable");
                ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "the service is temporarily unavailable",
                )
            }
            AppError::Unknown(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                ApiError::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an unexpected error occurred",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let retry_after = self.retry_after_seconds;
        let challenge = self.challenge.clone();
        let body = serde_json::to_vec(&self.into_problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            headers.insert(header::RETRY_AFTER, seconds);
        }
        match challenge.and_then(|value| HeaderValue::from_str(&value).ok()) {
            Some(value) => {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
            None if status == StatusCode::UNAUTHORIZED => {
                // RFC 9110 requires a challenge with every 401: an access token, or the session
                // cookie.
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="coffre""#),
                );
                headers.append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Cookie realm="coffre", form-action="/auth/login""#),
                );
            }
            None => {}
        }
        response
    }
}
