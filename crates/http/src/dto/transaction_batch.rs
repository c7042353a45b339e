//! Batches of transactions on the wire.

use coffre_app::FieldError;
use coffre_app::ledger::NewTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::transaction::{TransactionBody, TransactionDto};
use crate::error::Problem;

/// Up to 1 000 transactions in one call.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// All or nothing: when any transaction is refused, none is written.
    #[serde(default)]
    pub atomic: bool,
    /// The transactions, applied in order (1 to 1 000).
    #[schema(min_items = 1, max_items = 1000)]
    pub transactions: Vec<TransactionBody>,
}

impl BatchBody {
    /// Validates every transaction, collecting every invalid field.
    pub fn try_into_domain(self) -> Result<(bool, Vec<NewTransaction>), Vec<FieldError>> {
        let max = coffre_app::ledger::MAX_BATCH;
        if self.transactions.is_empty() || self.transactions.len() > max {
            return Err(vec![FieldError::new(
                "transactions",
                format!("a batch holds 1 to {max} transactions"),
            )]);
        }
        let mut errors = Vec::new();
        let mut requests = Vec::with_capacity(self.transactions.len());
        for (index, body) in self.transactions.into_iter().enumerate() {
            match body.try_into_domain(&format!("transactions[{index}].")) {
                Ok(request) => requests.push(request),
                Err(mut invalid) => errors.append(&mut invalid),
            }
        }
        if errors.is_empty() {
            Ok((self.atomic, requests))
        } else {
            Err(errors)
        }
    }
}

/// How one transaction of a batch ended.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum BatchItemStatus {
    /// Booked: see `transaction`.
    COMMITTED,
    /// Refused: see `error`, the problem a single request would have had.
    REFUSED,
    /// Acceptable, but not written: another transaction of the atomic batch was refused.
    ROLLED_BACK,
}

/// The result of one transaction of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResultDto {
    /// Its position in the request (from 0).
    pub index: usize,
    /// How it ended.
    pub status: BatchItemStatus,
    /// The booked transaction, when committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionDto>,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

/// A batch's results.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponseDto {
    /// Whether the batch was all-or-nothing.
    pub atomic: bool,
    /// False when an atomic batch was refused and wrote nothing.
    pub committed: bool,
    /// One result per transaction, in request order.
    pub results: Vec<BatchResultDto>,
}
