//! The staff transaction list on the wire: filters, cursor, page.

use coffre_app::FieldError;
use coffre_app::ports::TransactionFilter;
use coffre_domain::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::transaction::{TransactionDto, TransactionTypeDto};

/// Filters and cursor of the transaction list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransactionListQuery {
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only transactions debiting or crediting this account.
    pub account_id: Option<Uuid>,
    /// Only transactions of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub transaction_type: Option<TransactionTypeDto>,
    /// Only transactions created at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Only transactions created before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
}

fn instant(field: &str, text: Option<&str>) -> Result<Option<time::OffsetDateTime>, FieldError> {
    text.map(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| FieldError::new(field, "must be an RFC 3339 timestamp"))
    })
    .transpose()
}

/// A validated transaction list request.
#[derive(Debug, Clone)]
pub struct TransactionListRequest {
    /// The store filter.
    pub filter: TransactionFilter,
    /// Newest first, strictly older than this.
    pub before: Option<coffre_domain::ledger::TransactionId>,
    /// Page size.
    pub limit: u32,
}

impl TransactionListQuery {
    /// Validates the query, collecting every invalid parameter.
    pub fn try_into_request(self) -> Result<TransactionListRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = self.limit.unwrap_or(coffre_app::pagination::DEFAULT_LIMIT);
        if !(1..=coffre_app::pagination::MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new("limit", "must be between 1 and 100"));
        }
        let before = self
            .cursor
            .as_deref()
            .map(Uuid::parse_str)
            .transpose()
            .map_err(|_| errors.push(FieldError::new("cursor", "not a cursor of this list")))
            .ok()
            .flatten()
            .map(coffre_domain::ledger::TransactionId);
        let from = instant("from", self.from.as_deref())
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let to = instant("to", self.to.as_deref())
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(TransactionListRequest {
            filter: TransactionFilter {
                account_id: self.account_id.map(AccountId),
                transaction_type: self.transaction_type.map(Into::into),
                from,
                to,
            },
            before,
            limit,
        })
    }
}

/// One page of the transaction list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionListDto {
    /// Newest first.
    pub items: Vec<TransactionDto>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}
