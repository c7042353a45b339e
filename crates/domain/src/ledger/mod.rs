//! The double-entry ledger: transactions made of balanced postings, holds, the bank's own
//! internal accounts, and [`apply`], the one pure function that decides what a batch of
//! requests does to the accounts it touches.
//!
//! Every movement of money is a [`Transaction`] whose [`Posting`]s debit and credit accounts by
//! equal amounts in one currency, so the sum of all balances per currency (customer accounts
//! plus internal accounts) is always exactly zero. Nothing here performs I/O: the store locks
//! and loads a [`LedgerState`], calls [`apply`], and writes back what it returns.

mod apply;
mod command;
mod hold;
mod ids;
mod internal;
mod outcome;
mod policy;
mod restore;
mod state;
mod transaction;

pub use apply::apply;
pub use command::{LedgerCommand, LedgerRequest};
pub use hold::{Hold, HoldStatus};
pub use ids::{HoldId, TransactionId};
pub use internal::{InternalAccount, InternalKind, LedgerAccount};
pub use outcome::{Applied, LedgerError};
pub use policy::LedgerPolicy;
pub use state::LedgerState;
pub use transaction::{Direction, Posting, Transaction, TransactionStatus, TransactionType};
