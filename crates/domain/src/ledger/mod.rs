//! The double-entry ledger: transactions made of balanced postings, holds, the bank's own
//! internal accounts, and [`apply`], the one pure function that decides what a batch of
//! requests does to the accounts it touches.
//!
//! Every movement of money is a [`Transaction`] whose [`Posting`]s debit and credit accounts by
//! equal amounts in one currency, so the sum of all balances per currency (customer accounts
//! plus internal accounts) is always exactly zero. Nothing here performs I/O: the store locks
//! and loads a [`LedgerState`], calls [`apply`], and writes back what it returns.

mod apply;
mod hold;
mod internal;
mod restore;
mod transaction;

pub use apply::{
    Applied, LedgerCommand, LedgerError, LedgerPolicy, LedgerRequest, LedgerState, apply,
};
pub use hold::{Hold, HoldId, HoldStatus};
pub use internal::{InternalAccount, InternalKind, LedgerAccount};
pub use transaction::{
    Direction, Posting, Transaction, TransactionId, TransactionStatus, TransactionType,
};
