//! What a client can ask of the ledger: [`LedgerCommand`] and its [`LedgerRequest`].

use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::AccountId;
use crate::iban::Iban;
use crate::ledger::ids::{HoldId, TransactionId};
use crate::money::Money;

/// One request of a batch, with the id of what it creates (a transaction or a hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCommand {
    /// The id of the transaction or hold the request creates (UUIDv7, made by the caller).
    pub id: Uuid,
    /// What is asked.
    pub request: LedgerRequest,
}

/// What a client can ask of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerRequest {
    /// Cash in: the cash account pays the customer account.
    Deposit {
        /// The account credited.
        account: AccountId,
        /// How much.
        amount: Money,
        /// Statement text.
        label: Option<String>,
    },
    /// Cash out: the customer account pays the cash account.
    Withdrawal {
        /// The account debited.
        account: AccountId,
        /// How much.
        amount: Money,
        /// Statement text.
        label: Option<String>,
    },
    /// From one customer account to another of this bank.
    Transfer {
        /// The account debited.
        source: AccountId,
        /// The account credited.
        destination: AccountId,
        /// How much.
        amount: Money,
        /// Statement text.
        label: Option<String>,
        /// The IBAN the payer named, when addressed by IBAN.
        counterparty_iban: Option<Iban>,
    },
    /// Undo a completed transaction with its mirror image.
    Reverse {
        /// The transaction to undo.
        original: TransactionId,
        /// Statement text.
        label: Option<String>,
    },
    /// Reserve money on an account.
    PlaceHold {
        /// The account.
        account: AccountId,
        /// How much.
        amount: Money,
        /// When the reservation lapses by itself.
        expires_at: OffsetDateTime,
    },
    /// Turn a hold into a payment to the card settlement account: all of it, or part of it
    /// (the rest is freed).
    CaptureHold {
        /// The hold.
        hold: HoldId,
        /// How much, if less than the hold.
        amount: Option<Money>,
        /// Statement text.
        label: Option<String>,
    },
    /// Free a hold without moving money.
    ReleaseHold {
        /// The hold.
        hold: HoldId,
    },
    /// Mark a hold that reached its expiry (it already reserves nothing).
    ExpireHold {
        /// The hold.
        hold: HoldId,
    },
    /// Close an account: it must hold no money and no pending hold.
    Close {
        /// The account.
        account: AccountId,
    },
}

impl LedgerRequest {
    /// The amount the request names, if any.
    pub fn amount(&self) -> Option<Money> {
        match self {
            LedgerRequest::Deposit { amount, .. }
            | LedgerRequest::Withdrawal { amount, .. }
            | LedgerRequest::Transfer { amount, .. }
            | LedgerRequest::PlaceHold { amount, .. } => Some(*amount),
            LedgerRequest::CaptureHold { amount, .. } => *amount,
            LedgerRequest::Reverse { .. }
            | LedgerRequest::ReleaseHold { .. }
            | LedgerRequest::ExpireHold { .. }
            | LedgerRequest::Close { .. } => None,
        }
    }

    /// The customer accounts the request names directly (holds and reversals name theirs
    /// through the hold or transaction, which the store looks up).
    pub fn named_accounts(&self) -> Vec<AccountId> {
        match self {
            LedgerRequest::Deposit { account, .. }
            | LedgerRequest::Withdrawal { account, .. }
            | LedgerRequest::PlaceHold { account, .. }
            | LedgerRequest::Close { account } => vec![*account],
            LedgerRequest::Transfer {
                source,
                destination,
                ..
            } => vec![*source, *destination],
            LedgerRequest::Reverse { .. }
            | LedgerRequest::CaptureHold { .. }
            | LedgerRequest::ReleaseHold { .. }
            | LedgerRequest::ExpireHold { .. } => Vec::new(),
        }
    }
}
