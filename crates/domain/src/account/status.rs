//! [`AccountStatus`]: where an account stands in its life.

use serde::{Deserialize, Serialize};

/// Where an account stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// Opened for a customer whose KYC is not verified yet: no money moves.
    PendingKyc,
    /// Open for business.
    Active,
    /// Blocked by the bank: neither sends nor receives money.
    Frozen,
    /// Closed for good; kept, never deleted.
    Closed,
}

impl AccountStatus {
    /// Every status, in a stable order.
    pub const ALL: [AccountStatus; 4] = [
        AccountStatus::PendingKyc,
        AccountStatus::Active,
        AccountStatus::Frozen,
        AccountStatus::Closed,
    ];

    /// The status as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::PendingKyc => "PENDING_KYC",
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Frozen => "FROZEN",
            AccountStatus::Closed => "CLOSED",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        AccountStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}
