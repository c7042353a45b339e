//! [`AccountType`]: the kind of account, which sets its rules.

use serde::{Deserialize, Serialize};

/// The kind of account, which sets its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountType {
    /// Current account: payments, overdraft allowed up to its limit.
    #[serde(rename = "COURANT")]
    Courant,
    /// Savings account: no overdraft.
    #[serde(rename = "EPARGNE")]
    Epargne,
    /// Regulated savings (Livret A): EUR only, no overdraft, balance ceiling, one per person.
    #[serde(rename = "LIVRET_A")]
    LivretA,
}

/// The Livret A balance ceiling set by French law, in euro cents (22 950.00 EUR).
pub const LIVRET_A_CEILING_MINOR: i64 = 2_295_000;

impl AccountType {
    /// Every type, in a stable order.
    pub const ALL: [AccountType; 3] = [
        AccountType::Courant,
        AccountType::Epargne,
        AccountType::LivretA,
    ];

    /// The type as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Courant => "COURANT",
            AccountType::Epargne => "EPARGNE",
            AccountType::LivretA => "LIVRET_A",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        AccountType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Only current accounts may go below zero.
    pub fn allows_overdraft(self) -> bool {
        self == AccountType::Courant
    }
}
