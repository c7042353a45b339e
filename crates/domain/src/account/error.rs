//! [`AccountError`]: why a change to an account was refused, and the checks on the free text
//! an account carries.

use crate::customer::bounded_text;

/// Why a change to an account was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The account is closed: nothing about it changes any more.
    #[error("the account is closed")]
    Closed,
    /// The account is frozen: it can only be unfrozen.
    #[error("the account is frozen")]
    Frozen,
    /// A transition that does not exist from the current status (e.g. unfreezing an active
    /// account, or freezing one still waiting for KYC).
    #[error("an account that is {from} cannot become {to}")]
    IllegalTransition {
        /// The current status.
        from: &'static str,
        /// The requested status.
        to: &'static str,
    },
    /// Closing an account that still holds money (or owes it).
    #[error("the account balance is not zero")]
    NotEmpty,
    /// An overdraft on an account type that has none, or a negative or oversized limit.
    #[error("this account type does not allow an overdraft of that amount")]
    OverdraftNotAllowed,
    /// The currency is not allowed for the account type (a Livret A is in euros).
    #[error("this account type is only offered in EUR")]
    CurrencyNotAllowed,
    /// A negative daily outgoing limit.
    #[error("the daily limit must not be negative")]
    InvalidDailyLimit,
    /// The customer's KYC was rejected: no account can be opened.
    #[error("the customer's identity verification was rejected")]
    CustomerRejected,
    /// A nickname or reason that is empty, too long or has control characters.
    #[error("{0} must be 1 to {1} printable characters")]
    InvalidText(&'static str, usize),
}

/// A short free-text label the owner gives an account.
pub fn parse_nickname(text: &str) -> Result<String, AccountError> {
    bounded_text(text, 1, 64).ok_or(AccountError::InvalidText("nickname", 64))
}

/// The reason a teller gives for freezing or unfreezing.
pub fn parse_reason(text: &str) -> Result<String, AccountError> {
    bounded_text(text, 1, 500).ok_or(AccountError::InvalidText("reason", 500))
}
