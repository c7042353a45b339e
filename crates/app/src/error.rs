//! The errors use cases return, one variant per outcome a client must be able to tell apart.
//!
//! Each variant maps to exactly one stable error `code` of the HTTP contract; the mapping lives
//! in the HTTP adapter. Store failures arrive as [`StoreError`](crate::ports::StoreError) and are
//! turned into meanings here, so no database error ever crosses into a response.

use coffre_domain::ledger::LedgerError;

use crate::ports::{ConflictKind, StoreError};

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path, e.g. `address.city`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl ToString) -> Self {
        FieldError {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// What second factor a refused request lacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MfaRequirement {
    /// The login needs a one-time code (the user has TOTP enabled).
    #[error("this account uses two-factor authentication: send a one-time code")]
    OneTimeCode,
    /// The one-time code given is wrong, or was used before.
    #[error("the one-time code is not valid or was already used")]
    InvalidCode,
    /// The operation needs a login with a one-time code within the last `max_age_s` seconds
    /// (step-up authentication).
    #[error(
        "this operation needs a login with a one-time code within the last {max_age_s} seconds"
    )]
    StepUp {
        /// How recent the login must be.
        max_age_s: i64,
    },
}

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is well-formed but some fields are invalid (`validation_failed`).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// No valid session or credentials (`unauthenticated`).
    #[error("authentication required")]
    Unauthenticated,
    /// A second factor is needed (`mfa_required`).
    #[error("{0}")]
    MfaRequired(MfaRequirement),
    /// Authenticated, but not allowed (`forbidden`). Never used to hide a customer's resource:
    /// that is `NotFound`.
    #[error("not allowed")]
    Forbidden,
    /// No such resource, or not one the caller may see (`not_found`).
    #[error("not found")]
    NotFound,
    /// The resource's state forbids the change (`conflict`).
    #[error("{0}")]
    Conflict(String),
    /// A uniqueness rule would be broken (`conflict`).
    #[error("{}", duplicate_message(*.0))]
    Duplicate(ConflictKind),
    /// `If-Match` did not match the current version (`precondition_failed`).
    #[error("the resource has changed since it was read")]
    PreconditionFailed,
    /// The account is frozen (`account_frozen`).
    #[error("the account is frozen")]
    AccountFrozen,
    /// The amount is not in the account's currency (`currency_mismatch`).
    #[error("the currency does not match the account")]
    CurrencyMismatch,
    /// The account is closed (`account_closed`).
    #[error("the account is closed")]
    AccountClosed,
    /// The account still holds money (`account_not_empty`).
    #[error("the account balance is not zero")]
    AccountNotEmpty,
    /// The debit would pass the overdraft limit (`insufficient_funds`).
    #[error("insufficient funds")]
    InsufficientFunds,
    /// A daily outgoing limit or the Livret A ceiling would be passed (`limit_exceeded`).
    #[error("{0}")]
    LimitExceeded(String),
    /// A money-moving request came without an `Idempotency-Key` (`idempotency_key_missing`).
    #[error("an Idempotency-Key header is required")]
    IdempotencyKeyMissing,
    /// The key was used before with another request (`idempotency_key_reused`).
    #[error("this idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this key is still running (`idempotency_key_in_flight`).
    #[error("a request with this idempotency key is still being processed")]
    IdempotencyKeyInFlight,
    /// A statement has more lines than its format renders; the CSV and JSON have no limit
    /// (`statement_too_large`).
    #[error(
        "this month has {lines} lines; a PDF statement holds at most {limit}: download it as CSV or JSON"
    )]
    StatementTooLarge {
        /// The month's lines.
        lines: u64,
        /// The most the format renders.
        limit: u64,
    },
    /// Too many attempts; try again after the given delay (`rate_limited`).
    #[error("too many attempts")]
    RateLimited {
        /// How long until the caller may try again.
        retry_after: time::Duration,
    },
    /// A dependency (the database) is unreachable (`service_unavailable`).
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or an unexpected failure (`internal`). Logged, never shown.
    #[error(transparent)]
    Unknown(anyhow::Error),
}

impl AppError {
    /// A validation error on a single field.
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(ConflictKind::IdempotencyKey) => AppError::IdempotencyKeyInFlight,
            StoreError::Conflict(kind) => AppError::Duplicate(kind),
            StoreError::Unavailable(error) => AppError::Unavailable(error),
            StoreError::Unknown(error) => AppError::Unknown(error),
        }
    }
}

impl AppError {
    /// A password-hasher failure: 503 when it is saturated, a bug otherwise.
    pub fn from_hasher(error: anyhow::Error) -> Self {
        if error.is::<crate::ports::HasherBusy>() {
            AppError::Unavailable(error)
        } else {
            AppError::Unknown(error)
        }
    }
}

/// What a client is told about a broken uniqueness rule.
pub fn duplicate_message(kind: ConflictKind) -> &'static str {
    match kind {
        ConflictKind::Email => "a customer with this e-mail address already exists",
        ConflictKind::Username => "this username is already taken",
        ConflictKind::Iban => "the generated IBAN is already in use",
        ConflictKind::LivretA => "a customer may hold only one open Livret A",
        ConflictKind::IdempotencyKey => {
            "a request with this idempotency key is still being processed"
        }
    }
}

impl From<LedgerError> for AppError {
    /// The contract's code for each ledger refusal.
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::UnknownAccount(_)
            | LedgerError::UnknownHold(_)
            | LedgerError::UnknownTransaction(_) => AppError::NotFound,
            LedgerError::InsufficientFunds => AppError::InsufficientFunds,
            LedgerError::CurrencyMismatch => AppError::CurrencyMismatch,
            LedgerError::AccountFrozen => AppError::AccountFrozen,
            LedgerError::AccountClosed => AppError::AccountClosed,
            LedgerError::AccountNotEmpty => AppError::AccountNotEmpty,
            LedgerError::DailyLimitExceeded | LedgerError::CeilingExceeded => {
                AppError::LimitExceeded(error.to_string())
            }
            LedgerError::HoldNotActive | LedgerError::NotReversible => {
                AppError::Conflict(error.to_string())
            }
            LedgerError::AccountPendingKyc
            | LedgerError::LivretARestricted
            | LedgerError::SameAccount
            | LedgerError::BalanceOutOfRange => AppError::invalid("source_account_id", error),
            LedgerError::CaptureExceedsHold | LedgerError::NonPositiveAmount => {
                AppError::invalid("amount", error)
            }
            LedgerError::InvalidExpiry => AppError::invalid("expires_at", error),
        }
    }
}
