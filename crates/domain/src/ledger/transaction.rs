//! Transactions and their postings.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::AccountId;
use crate::iban::Iban;
use crate::ledger::ids::{HoldId, TransactionId};
use crate::ledger::internal::LedgerAccount;
use crate::money::Money;

/// What a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionType {
    /// Cash paid in at the counter: cash account → customer account.
    Deposit,
    /// Cash paid out: customer account → cash account.
    Withdrawal,
    /// Customer account → customer account.
    Transfer,
    /// The mirror image of an earlier transaction, which it undoes.
    Reversal,
    /// A captured hold: customer account → card settlement account.
    HoldCapture,
}

impl TransactionType {
    /// Every type, in a stable order.
    pub const ALL: [TransactionType; 5] = [
        TransactionType::Deposit,
        TransactionType::Withdrawal,
        TransactionType::Transfer,
        TransactionType::Reversal,
        TransactionType::HoldCapture,
    ];

    /// The type as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::Deposit => "DEPOSIT",
            TransactionType::Withdrawal => "WITHDRAWAL",
            TransactionType::Transfer => "TRANSFER",
            TransactionType::Reversal => "REVERSAL",
            TransactionType::HoldCapture => "HOLD_CAPTURE",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        TransactionType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionStatus {
    /// Started, not settled yet (inter-bank transfers).
    Pending,
    /// Booked.
    Completed,
    /// Given up; nothing was booked.
    Failed,
    /// Booked, then undone by a reversal (which is its own transaction).
    Reversed,
}

impl TransactionStatus {
    /// Every status, in a stable order.
    pub const ALL: [TransactionStatus; 4] = [
        TransactionStatus::Pending,
        TransactionStatus::Completed,
        TransactionStatus::Failed,
        TransactionStatus::Reversed,
    ];

    /// The status as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "PENDING",
            TransactionStatus::Completed => "COMPLETED",
            TransactionStatus::Failed => "FAILED",
            TransactionStatus::Reversed => "REVERSED",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        TransactionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Which side of an account a posting is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// Money leaves the account.
    Debit,
    /// Money enters the account.
    Credit,
}

impl Direction {
    /// The direction as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Debit => "DEBIT",
            Direction::Credit => "CREDIT",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        [Direction::Debit, Direction::Credit]
            .into_iter()
            .find(|d| d.as_str() == text)
    }

    /// The signed effect of `amount_minor` on a balance.
    pub fn signed(self, amount_minor: i64) -> i64 {
        match self {
            Direction::Debit => -amount_minor,
            Direction::Credit => amount_minor,
        }
    }

    /// The other side.
    pub fn opposite(self) -> Self {
        match self {
            Direction::Debit => Direction::Credit,
            Direction::Credit => Direction::Debit,
        }
    }
}

/// One line of a transaction: an amount debited from or credited to one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    /// The account.
    pub account: LedgerAccount,
    /// Debit or credit.
    pub direction: Direction,
    /// The amount (positive), in the account's currency.
    pub amount: Money,
    /// The account's balance right after this posting, in minor units (statements' running
    /// balance).
    pub balance_after_minor: i64,
}

/// A booked (or, for inter-bank transfers, pending) movement of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Identifier.
    pub id: TransactionId,
    /// What it does.
    pub transaction_type: TransactionType,
    /// Where it stands.
    pub status: TransactionStatus,
    /// The amount moved (positive).
    pub amount: Money,
    /// The customer account debited, if any.
    pub source: Option<AccountId>,
    /// The customer account credited, if any.
    pub destination: Option<AccountId>,
    /// The IBAN the payer named, for transfers addressed by IBAN.
    pub counterparty_iban: Option<Iban>,
    /// Free text shown on statements.
    pub label: Option<String>,
    /// The transaction a reversal undoes.
    pub reverses: Option<TransactionId>,
    /// The reversal that undid this one.
    pub reversed_by: Option<TransactionId>,
    /// The hold a capture came from.
    pub hold: Option<HoldId>,
    /// The lines, balanced per currency.
    pub postings: Vec<Posting>,
    /// When it was requested.
    pub created_at: OffsetDateTime,
    /// When it was booked.
    pub completed_at: Option<OffsetDateTime>,
}

impl Transaction {
    /// True when debits equal credits for every currency (and there is at least one line).
    pub fn is_balanced(&self) -> bool {
        let mut sums = std::collections::BTreeMap::new();
        for posting in &self.postings {
            let sum: &mut i128 = sums.entry(posting.amount.currency()).or_default();
            *sum += i128::from(posting.direction.signed(posting.amount.amount_minor()));
        }
        !self.postings.is_empty() && sums.values().all(|sum| *sum == 0)
    }
}
