//! The bank's own accounts, the other side of every movement that enters or leaves the bank.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::AccountId;
use crate::money::Currency;

/// What an internal account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InternalKind {
    /// The vault: credited when cash is withdrawn, debited when cash is deposited.
    Cash,
    /// Money owed to or by other banks (inter-bank transfers).
    InterbankSettlement,
    /// Card payments captured from holds, owed to the card scheme.
    CardSettlement,
}

impl InternalKind {
    /// Every kind, in a stable order.
    pub const ALL: [InternalKind; 3] = [
        InternalKind::Cash,
        InternalKind::InterbankSettlement,
        InternalKind::CardSettlement,
    ];

    /// The kind as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            InternalKind::Cash => "cash",
            InternalKind::InterbankSettlement => "interbank_settlement",
            InternalKind::CardSettlement => "card_settlement",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        InternalKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    fn tag(self) -> u8 {
        match self {
            InternalKind::Cash => 1,
            InternalKind::InterbankSettlement => 2,
            InternalKind::CardSettlement => 3,
        }
    }
}

/// One internal account: a kind in a currency. There is exactly one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InternalAccount {
    /// What it is for.
    pub kind: InternalKind,
    /// Its currency.
    pub currency: Currency,
}

impl InternalAccount {
    /// Every internal account the bank has.
    pub fn all() -> impl Iterator<Item = InternalAccount> {
        InternalKind::ALL.into_iter().flat_map(|kind| {
            Currency::ALL
                .into_iter()
                .map(move |currency| InternalAccount { kind, currency })
        })
    }

    /// Its fixed id: `00000000-0000-8000-80<kind>-<currency code in ASCII hex>`, a UUIDv8
    /// that can never collide with the UUIDv7 of a customer account, and reads back to its
    /// name.
    pub fn id(self) -> Uuid {
        let code = self.currency.code().as_bytes();
        let mut bytes = [0u8; 16];
        bytes[6] = 0x80;
        bytes[8] = 0x80;
        bytes[9] = self.kind.tag();
        bytes[13..16].copy_from_slice(&code[..3]);
        Uuid::from_bytes(bytes)
    }

    /// Its name, e.g. `cash:EUR`.
    pub fn name(self) -> String {
        format!("{}:{}", self.kind.as_str(), self.currency.code())
    }

    /// The internal account with this id, if it is one.
    pub fn from_id(id: Uuid) -> Option<Self> {
        InternalAccount::all().find(|account| account.id() == id)
    }
}

impl fmt::Display for InternalAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Any account a posting can touch: a customer's, or one of the bank's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LedgerAccount {
    /// A customer account.
    Customer(AccountId),
    /// An internal account.
    Internal(InternalAccount),
}

impl LedgerAccount {
    /// The account's id, as postings show it.
    pub fn id(self) -> Uuid {
        match self {
            LedgerAccount::Customer(id) => id.0,
            LedgerAccount::Internal(internal) => internal.id(),
        }
    }

    /// Reads a posting's account id back: internal ids are recognised, any other is a
    /// customer account.
    pub fn from_id(id: Uuid) -> Self {
        InternalAccount::from_id(id).map_or(
            LedgerAccount::Customer(AccountId(id)),
            LedgerAccount::Internal,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ids_are_distinct_and_read_back() {
        let all: Vec<InternalAccount> = InternalAccount::all().collect();
        assert_eq!(all.len(), 15);
        for account in &all {
            assert_eq!(InternalAccount::from_id(account.id()), Some(*account));
            assert_eq!(account.id().get_version_num(), 8);
        }
        let mut ids: Vec<Uuid> = all.iter().map(|a| a.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 15);
    }

    #[test]
    fn customer_ids_are_never_taken_for_internal_ones() {
        let id = Uuid::now_v7();
        assert_eq!(
            LedgerAccount::from_id(id),
            LedgerAccount::Customer(AccountId(id))
        );
    }
}
