//! [`Event`]: what happened, with what it takes to replay it, and its stored form.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::{Account, AccountId, AccountStatus, AccountType};
use crate::customer::{Customer, CustomerId, KycStatus};
use crate::ledger::{Direction, Hold, HoldId, Transaction, TransactionId, TransactionType};
use crate::money::Currency;

/// One line of a [`Event::TransactionCompleted`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingRecord {
    /// The account (customer or internal) id.
    pub account_id: Uuid,
    /// Debit or credit.
    pub direction: Direction,
    /// The amount, in minor units.
    pub amount_minor: i64,
    /// The account's balance right after the posting.
    pub balance_after_minor: i64,
}

/// Something that happened, with what it takes to replay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// A customer signed up (or was registered by a teller).
    CustomerRegistered {
        /// The customer.
        customer_id: CustomerId,
        /// Their KYC status at sign-up.
        kyc_status: KycStatus,
    },
    /// A customer's KYC review ended.
    CustomerKycDecided {
        /// The customer.
        customer_id: CustomerId,
        /// `VERIFIED` or `REJECTED`.
        kyc_status: KycStatus,
    },
    /// An account was opened.
    AccountCreated {
        /// The account.
        account_id: AccountId,
        /// Its owner.
        customer_id: CustomerId,
        /// Its IBAN (electronic form).
        iban: String,
        /// Its type.
        account_type: AccountType,
        /// Its currency.
        currency: Currency,
        /// Its status at opening.
        status: AccountStatus,
    },
    /// An account became `ACTIVE` because its owner's KYC was verified.
    AccountActivated {
        /// The account.
        account_id: AccountId,
    },
    /// The bank froze an account.
    AccountFrozen {
        /// The account.
        account_id: AccountId,
        /// The teller's reason.
        reason: Option<String>,
    },
    /// The bank lifted a freeze.
    AccountUnfrozen {
        /// The account.
        account_id: AccountId,
        /// The teller's reason.
        reason: Option<String>,
    },
    /// An account was closed (by its owner, a teller, or a KYC rejection).
    AccountClosed {
        /// The account.
        account_id: AccountId,
    },
    /// An account's settings changed (nickname, overdraft or daily limit).
    AccountSettingsChanged {
        /// The account.
        account_id: AccountId,
        /// Whether it has a nickname now (the text is the owner's, not the log's).
        has_nickname: bool,
        /// The overdraft limit, in minor units.
        overdraft_limit_minor: i64,
        /// The daily outgoing limit, in minor units (`None`: the bank's default).
        daily_limit_minor: Option<i64>,
    },
    /// Money moved: the transaction and its postings.
    TransactionCompleted {
        /// The transaction.
        transaction_id: TransactionId,
        /// Its type.
        transaction_type: TransactionType,
        /// The amount moved, in minor units.
        amount_minor: i64,
        /// Its currency.
        currency: Currency,
        /// The transaction a reversal undoes.
        reverses: Option<TransactionId>,
        /// The hold a capture came from.
        hold_id: Option<HoldId>,
        /// The postings.
        postings: Vec<PostingRecord>,
    },
    /// A transaction was undone by a reversal.
    TransactionReversed {
        /// The original transaction.
        transaction_id: TransactionId,
        /// The reversal that undid it.
        reversal_id: TransactionId,
    },
    /// A hold was placed.
    HoldPlaced {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
        /// The amount reserved, in minor units.
        amount_minor: i64,
        /// When it expires.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// A hold was captured (in whole or part; the rest was freed).
    HoldCaptured {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
        /// The amount captured, in minor units.
        captured_minor: i64,
        /// The transaction the capture booked.
        transaction_id: TransactionId,
    },
    /// A hold was released without moving money.
    HoldReleased {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
    },
    /// A hold reached its expiry.
    HoldExpired {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
    },
}

impl Event {
    /// The stream (aggregate) the event belongs to: the customer, account, transaction or hold.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Event::CustomerRegistered { customer_id, .. }
            | Event::CustomerKycDecided { customer_id, .. } => customer_id.0,
            Event::AccountCreated { account_id, .. }
            | Event::AccountActivated { account_id }
            | Event::AccountFrozen { account_id, .. }
            | Event::AccountUnfrozen { account_id, .. }
            | Event::AccountClosed { account_id }
            | Event::AccountSettingsChanged { account_id, .. } => account_id.0,
            Event::TransactionCompleted { transaction_id, .. }
            | Event::TransactionReversed { transaction_id, .. } => transaction_id.0,
            Event::HoldPlaced { hold_id, .. }
            | Event::HoldCaptured { hold_id, .. }
            | Event::HoldReleased { hold_id, .. }
            | Event::HoldExpired { hold_id, .. } => hold_id.0,
        }
    }

    /// The event's type name, e.g. `AccountFrozen`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::CustomerRegistered { .. } => "CustomerRegistered",
            Event::CustomerKycDecided { .. } => "CustomerKycDecided",
            Event::AccountCreated { .. } => "AccountCreated",
            Event::AccountActivated { .. } => "AccountActivated",
            Event::AccountFrozen { .. } => "AccountFrozen",
            Event::AccountUnfrozen { .. } => "AccountUnfrozen",
            Event::AccountClosed { .. } => "AccountClosed",
            Event::AccountSettingsChanged { .. } => "AccountSettingsChanged",
            Event::TransactionCompleted { .. } => "TransactionCompleted",
            Event::TransactionReversed { .. } => "TransactionReversed",
            Event::HoldPlaced { .. } => "HoldPlaced",
            Event::HoldCaptured { .. } => "HoldCaptured",
            Event::HoldReleased { .. } => "HoldReleased",
            Event::HoldExpired { .. } => "HoldExpired",
        }
    }

    /// The payload as stored: the event's fields as compact JSON with keys in a fixed order.
    pub fn payload_json(&self) -> Result<String, serde_json::Error> {
        let tagged = serde_json::to_value(self)?;
        let data = tagged
            .get("data")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        serde_json::to_string(&data)
    }

    /// Reads a stored event back from its type and payload.
    pub fn from_stored(event_type: &str, payload: &str) -> Result<Self, serde_json::Error> {
        let data: serde_json::Value = serde_json::from_str(payload)?;
        serde_json::from_value(serde_json::json!({ "type": event_type, "data": data }))
    }

    /// The event that records a new customer.
    pub fn customer_registered(customer: &Customer) -> Self {
        Event::CustomerRegistered {
            customer_id: customer.id,
            kyc_status: customer.kyc_status,
        }
    }

    /// The event that records a new account.
    pub fn account_created(account: &Account) -> Self {
        Event::AccountCreated {
            account_id: account.id,
            customer_id: account.customer_id,
            iban: account.iban.electronic().to_owned(),
            account_type: account.account_type,
            currency: account.currency,
            status: account.status,
        }
    }

    /// The events that say how a customer changed between two versions.
    pub fn customer_changes(before: &Customer, after: &Customer) -> Vec<Event> {
        if before.kyc_status != after.kyc_status {
            vec![Event::CustomerKycDecided {
                customer_id: after.id,
                kyc_status: after.kyc_status,
            }]
        } else {
            Vec::new()
        }
    }

    /// The events that say how an account changed between two versions, other than its
    /// balance (money moves are recorded by transaction events).
    pub fn account_changes(before: &Account, after: &Account) -> Vec<Event> {
        let mut events = Vec::new();
        let account_id = after.id;
        if before.status != after.status {
            events.push(match (before.status, after.status) {
                (_, AccountStatus::Closed) => Event::AccountClosed { account_id },
                (AccountStatus::Active, AccountStatus::Frozen) => Event::AccountFrozen {
                    account_id,
                    reason: after.status_reason.clone(),
                },
                (AccountStatus::Frozen, AccountStatus::Active) => Event::AccountUnfrozen {
                    account_id,
                    reason: after.status_reason.clone(),
                },
                _ => Event::AccountActivated { account_id },
            });
        }
        if before.nickname != after.nickname
            || before.overdraft_limit_minor != after.overdraft_limit_minor
            || before.daily_limit_minor != after.daily_limit_minor
        {
            events.push(Event::AccountSettingsChanged {
                account_id,
                has_nickname: after.nickname.is_some(),
                overdraft_limit_minor: after.overdraft_limit_minor,
                daily_limit_minor: after.daily_limit_minor,
            });
        }
        events
    }

    /// The event that records a booked transaction.
    pub fn transaction_completed(transaction: &Transaction) -> Self {
        Event::TransactionCompleted {
            transaction_id: transaction.id,
            transaction_type: transaction.transaction_type,
            amount_minor: transaction.amount.amount_minor(),
            currency: transaction.amount.currency(),
            reverses: transaction.reverses,
            hold_id: transaction.hold,
            postings: transaction
                .postings
                .iter()
                .map(|posting| PostingRecord {
                    account_id: posting.account.id(),
                    direction: posting.direction,
                    amount_minor: posting.amount.amount_minor(),
                    balance_after_minor: posting.balance_after_minor,
                })
                .collect(),
        }
    }

    /// The event that records a new hold.
    pub fn hold_placed(hold: &Hold) -> Self {
        Event::HoldPlaced {
            hold_id: hold.id,
            account_id: hold.account_id,
            amount_minor: hold.amount.amount_minor(),
            expires_at: hold.expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn events_read_back_from_their_stored_form() -> Result<(), serde_json::Error> {
        let event = Event::HoldPlaced {
            hold_id: HoldId(Uuid::now_v7()),
            account_id: AccountId(Uuid::now_v7()),
            amount_minor: 1_250,
            expires_at: datetime!(2026-11-28 10:00 UTC),
        };
        let stored = event.payload_json()?;
        assert_eq!(Event::from_stored(event.event_type(), &stored)?, event);
        Ok(())
    }
}
