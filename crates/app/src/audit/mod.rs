//! Audit use cases: reading the event log, re-checking its hash chain, the trial balance, and
//! replaying the log to compare it with the live balances and statuses.
//!
//! Only auditors and admins may use them (403 for anyone else): the log names every actor.

mod replay;
mod verify;

use coffre_domain::{Role, UserId};
use uuid::Uuid;

use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::ports::{Clock, EventFilter, Storage};
use crate::principal::Credential;
use crate::{AppError, Principal, Service};
use coffre_domain::Currency;
use coffre_domain::events::EventRecord;
use coffre_domain::ledger::InternalAccount;

pub use replay::{Mismatch, MismatchField, RebuildReport};
pub use verify::ChainReport;

/// How many events the chain check and the replay read at a time.
const CHUNK: u32 = 1_000;

/// The caller a command-line tool acts as: an auditor that is no stored user.
pub fn system_auditor() -> Principal {
    Principal {
        user_id: UserId(Uuid::nil()),
        role: Role::Auditor,
        customer_id: None,
        credential: Credential::Internal,
    }
}

/// Refuses anyone but auditors and admins, with 403.
fn require_auditor(caller: &Principal) -> Result<(), AppError> {
    if matches!(caller.role, Role::Auditor | Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A validated request for a page of events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Which events.
    pub filter: EventFilter,
    /// The opaque cursor of the previous page (the last sequence it showed).
    pub cursor: Option<String>,
    /// The page size (1..=100, default 20).
    pub limit: Option<u32>,
}

/// One page of events, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events.
    pub items: Vec<EventRecord>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// The trial balance of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyBalance {
    /// The currency.
    pub currency: Currency,
    /// The sum of all customer balances, in minor units.
    pub customer_accounts_minor: i64,
    /// Each internal account and its balance, in minor units.
    pub internal_accounts: Vec<(InternalAccount, i64)>,
    /// Customer plus internal balances: zero in a sound ledger.
    pub total_minor: i64,
}

fn parse_cursor(cursor: Option<&str>) -> Result<i64, AppError> {
    match cursor {
        None => Ok(0),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|sequence| *sequence >= 0)
            .ok_or_else(|| AppError::invalid("cursor", "not a cursor this list returned")),
    }
}

fn check_limit(limit: Option<u32>) -> Result<u32, AppError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ))
    }
}

fn overflow() -> AppError {
    AppError::Unknown(anyhow::anyhow!("a ledger total is out of range"))
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// A page of the event log, in sequence order, after `query.cursor`.
    pub async fn audit_events(
        &self,
        caller: &Principal,
        query: &EventQuery,
    ) -> Result<EventPage, AppError> {
        require_auditor(caller)?;
        let after = parse_cursor(query.cursor.as_deref())?;
        let limit = check_limit(query.limit)?;
        // One more than asked tells whether a next page exists.
        let mut items = self.store.events(&query.filter, after, limit + 1).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|record| record.sequence.to_string())
        } else {
            None
        };
        Ok(EventPage { items, next_cursor })
    }

    /// Per currency, the customer and internal totals, from one snapshot.
    pub async fn trial_balance(
        &self,
        caller: &Principal,
    ) -> Result<Vec<CurrencyBalance>, AppError> {
        require_auditor(caller)?;
        let totals = self.store.trial_balance().await?;
        totals
            .into_iter()
            .map(|totals| {
                let total = totals
                    .internal_accounts
                    .iter()
                    .try_fold(totals.customer_accounts_minor, |sum, (_, balance)| {
                        sum.checked_add(*balance)
                    })
                    .ok_or_else(overflow)?;
                Ok(CurrencyBalance {
                    currency: totals.currency,
                    customer_accounts_minor: totals.customer_accounts_minor,
                    internal_accounts: totals.internal_accounts,
                    total_minor: total,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_sequences_and_limits_are_bounded() {
        assert_eq!(parse_cursor(None).ok(), Some(0));
        assert_eq!(parse_cursor(Some("41")).ok(), Some(41));
        assert!(parse_cursor(Some("-1")).is_err());
        assert!(parse_cursor(Some("abc")).is_err());
        assert!(check_limit(Some(0)).is_err());
        assert!(check_limit(Some(101)).is_err());
        assert_eq!(check_limit(None).ok(), Some(DEFAULT_LIMIT));
    }
}
