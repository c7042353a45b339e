//! The bank's settings the ledger applies.

use crate::account::Account;

/// The bank's settings the ledger applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerPolicy {
    /// The daily outgoing limit of an account that has none of its own, in major units of
    /// the account's currency (10 000 means 10 000.00 EUR, or 10 000 JPY).
    pub default_daily_limit_major: i64,
    /// The longest a hold may last.
    pub max_hold_duration: time::Duration,
}

impl Default for LedgerPolicy {
    fn default() -> Self {
        LedgerPolicy {
            default_daily_limit_major: 10_000,
            max_hold_duration: time::Duration::days(30),
        }
    }
}

impl LedgerPolicy {
    /// The most that may leave `account` in one UTC day, in minor units.
    pub fn daily_limit_minor(&self, account: &Account) -> i64 {
        account.daily_limit_minor.unwrap_or_else(|| {
            self.default_daily_limit_major
                .saturating_mul(10i64.pow(account.currency.minor_digits()))
        })
    }
}
