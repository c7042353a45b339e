//! Holds: card-style authorisations that reserve money without moving it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::AccountId;
use crate::ledger::ids::{HoldId, TransactionId};
use crate::money::Money;

/// Where a hold stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HoldStatus {
    /// Reserving money (until it expires).
    Active,
    /// Turned into a transaction (in whole or in part; the rest is freed).
    Captured,
    /// Freed without moving money.
    Released,
    /// Freed because it reached its expiry.
    Expired,
}

impl HoldStatus {
    /// Every status, in a stable order.
    pub const ALL: [HoldStatus; 4] = [
        HoldStatus::Active,
        HoldStatus::Captured,
        HoldStatus::Released,
        HoldStatus::Expired,
    ];

    /// The status as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Active => "ACTIVE",
            HoldStatus::Captured => "CAPTURED",
            HoldStatus::Released => "RELEASED",
            HoldStatus::Expired => "EXPIRED",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        HoldStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An amount reserved on an account: it lowers `available`, not `current`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Identifier.
    pub id: HoldId,
    /// The account it reserves money on.
    pub account_id: AccountId,
    /// The amount reserved.
    pub amount: Money,
    /// Where it stands.
    pub status: HoldStatus,
    /// After this instant it reserves nothing, whether or not it was marked expired yet.
    pub expires_at: OffsetDateTime,
    /// The amount captured, once captured.
    pub captured_minor: Option<i64>,
    /// The transaction a capture booked.
    pub capture_transaction: Option<TransactionId>,
    /// When it was placed.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl Hold {
    /// True while the hold still reserves money at `now`: active and not yet expired.
    /// An expired hold frees its money at its expiry instant, without waiting for anyone to
    /// mark it.
    pub fn is_pending(&self, now: OffsetDateTime) -> bool {
        self.status == HoldStatus::Active && now < self.expires_at
    }
}
