//! What a command comes to: [`Applied`] when accepted, [`LedgerError`] when refused.

use crate::account::{Account, AccountId};
use crate::events::Event;
use crate::ledger::hold::Hold;
use crate::ledger::ids::{HoldId, TransactionId};
use crate::ledger::transaction::Transaction;

/// What an accepted request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The transaction it booked, if any.
    pub transaction: Option<Transaction>,
    /// The hold it placed or changed, if any.
    pub hold: Option<Hold>,
    /// The account it closed, if any.
    pub account: Option<Account>,
    /// What it recorded, in order.
    pub events: Vec<Event>,
}

/// Why a request was refused. A refused request changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// No such account (or not loaded: the store names every account it loads).
    #[error("account {0} not found")]
    UnknownAccount(AccountId),
    /// No such hold.
    #[error("hold {0} not found")]
    UnknownHold(HoldId),
    /// No such transaction.
    #[error("transaction {0} not found")]
    UnknownTransaction(TransactionId),
    /// The debit would take `available` below minus the overdraft limit.
    #[error("insufficient funds")]
    InsufficientFunds,
    /// The amount's currency is not the account's.
    #[error("the amount's currency does not match the account's")]
    CurrencyMismatch,
    /// A frozen account neither sends nor receives money.
    #[error("the account is frozen")]
    AccountFrozen,
    /// A closed account neither sends nor receives money.
    #[error("the account is closed")]
    AccountClosed,
    /// The owner's identity is not verified yet.
    #[error("the account awaits its owner's identity verification")]
    AccountPendingKyc,
    /// The account's daily outgoing limit would be passed.
    #[error("the account's daily outgoing limit would be exceeded")]
    DailyLimitExceeded,
    /// The Livret A ceiling (22 950.00 EUR) would be passed.
    #[error("the Livret A ceiling of 22950.00 EUR would be exceeded")]
    CeilingExceeded,
    /// Money leaves a Livret A only for its owner's own current account.
    #[error("money leaves a Livret A only for its owner's own current account")]
    LivretARestricted,
    /// A transfer to the account it comes from.
    #[error("the source and destination accounts are the same")]
    SameAccount,
    /// The hold is no longer active (captured, released or expired).
    #[error("the hold is no longer active")]
    HoldNotActive,
    /// A capture of more than the hold.
    #[error("the capture exceeds the hold")]
    CaptureExceedsHold,
    /// A hold's expiry in the past, or too far ahead.
    #[error("the hold's expiry must be in the future and within the maximum duration")]
    InvalidExpiry,
    /// Only a completed transaction that is not itself a reversal can be reversed.
    #[error("the transaction cannot be reversed")]
    NotReversible,
    /// Closing an account that holds money or a pending hold.
    #[error("the account still holds money or a pending hold")]
    AccountNotEmpty,
    /// An amount of zero or less, where only a positive one makes sense.
    #[error("the amount must be positive")]
    NonPositiveAmount,
    /// A balance would leave the representable range.
    #[error("the resulting balance is out of range")]
    BalanceOutOfRange,
}
