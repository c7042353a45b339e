//! Bank accounts: types, statuses and the only transitions a bank allows between them.

mod account_type;
mod error;
mod status;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::customer::{CustomerId, KycStatus};
use crate::iban::{Bic, Iban};
use crate::money::{Currency, Money};

pub use account_type::{AccountType, LIVRET_A_CEILING_MINOR};
pub use error::{AccountError, parse_nickname, parse_reason};
pub use status::AccountStatus;

/// An account's identifier (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub Uuid);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What it takes to open an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The new account's id.
    pub id: AccountId,
    /// Its owner.
    pub customer_id: CustomerId,
    /// The owner's KYC status right now.
    pub customer_kyc: KycStatus,
    /// Its type.
    pub account_type: AccountType,
    /// Its currency.
    pub currency: Currency,
    /// Its generated IBAN.
    pub iban: Iban,
    /// This bank's BIC.
    pub bic: Bic,
    /// An optional label.
    pub nickname: Option<String>,
}

/// A bank account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Identifier.
    pub id: AccountId,
    /// Owner.
    pub customer_id: CustomerId,
    /// IBAN, unique in the bank.
    pub iban: Iban,
    /// The bank's BIC.
    pub bic: Bic,
    /// Type.
    pub account_type: AccountType,
    /// Status.
    pub status: AccountStatus,
    /// Currency of every amount on the account.
    pub currency: Currency,
    /// Owner's label.
    pub nickname: Option<String>,
    /// Why the bank last froze or unfroze the account.
    pub status_reason: Option<String>,
    /// Current (booked) balance in minor units.
    pub balance_minor: i64,
    /// How far below zero `available` may go, in minor units (≥ 0).
    pub overdraft_limit_minor: i64,
    /// The most that may leave the account in one UTC day, in minor units; `None` follows the
    /// bank's default (see [`crate::ledger::LedgerPolicy`]).
    pub daily_limit_minor: Option<i64>,
    /// What left the account so far on [`Account::outgoing_day`], in minor units.
    pub outgoing_today_minor: i64,
    /// The UTC day `outgoing_today_minor` counts, if money ever left the account.
    pub outgoing_day: Option<time::Date>,
    /// Optimistic-concurrency version, bumped by every change.
    pub version: i64,
    /// Opening time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Closing time, once closed.
    pub closed_at: Option<OffsetDateTime>,
}

impl Account {
    /// Opens an account: `ACTIVE` for a verified customer, `PENDING_KYC` for one still under
    /// review, refused for a rejected one. A Livret A is only offered in euros.
    pub fn open(new: NewAccount, now: OffsetDateTime) -> Result<Account, AccountError> {
        let status = match new.customer_kyc {
            KycStatus::Verified => AccountStatus::Active,
            KycStatus::Pending => AccountStatus::PendingKyc,
            KycStatus::Rejected => return Err(AccountError::CustomerRejected),
        };
        if new.account_type == AccountType::LivretA && new.currency != Currency::EUR {
            return Err(AccountError::CurrencyNotAllowed);
        }
        Ok(Account {
            id: new.id,
            customer_id: new.customer_id,
            iban: new.iban,
            bic: new.bic,
            account_type: new.account_type,
            status,
            currency: new.currency,
            nickname: new.nickname,
            status_reason: None,
            balance_minor: 0,
            overdraft_limit_minor: 0,
            daily_limit_minor: None,
            outgoing_today_minor: 0,
            outgoing_day: None,
            version: 1,
            created_at: now,
            updated_at: now,
            closed_at: None,
        })
    }

    /// The current balance as money.
    pub fn balance(&self) -> Money {
        Money::from_minor(self.balance_minor, self.currency)
            .unwrap_or_else(|_| Money::zero(self.currency))
    }

    /// The overdraft limit as money.
    pub fn overdraft_limit(&self) -> Money {
        Money::from_minor(self.overdraft_limit_minor, self.currency)
            .unwrap_or_else(|_| Money::zero(self.currency))
    }

    /// Activates a `PENDING_KYC` account once its owner's KYC is verified; other statuses are
    /// left as they are (a frozen account stays frozen).
    pub fn activate_after_kyc(&mut self, now: OffsetDateTime) -> bool {
        if self.status != AccountStatus::PendingKyc {
            return false;
        }
        self.status = AccountStatus::Active;
        self.touch(now);
        true
    }

    /// Closes a `PENDING_KYC` account because its owner's KYC was rejected: it was never
    /// active, so it holds no money. Other statuses are left as they are.
    pub fn close_after_kyc_rejection(&mut self, now: OffsetDateTime) -> bool {
        if self.status != AccountStatus::PendingKyc {
            return false;
        }
        self.status = AccountStatus::Closed;
        self.status_reason = Some("KYC rejected".to_owned());
        self.closed_at = Some(now);
        self.touch(now);
        true
    }

    /// Freezes an `ACTIVE` account, for the given reason.
    pub fn freeze(&mut self, reason: String, now: OffsetDateTime) -> Result<(), AccountError> {
        self.transition(AccountStatus::Active, AccountStatus::Frozen, now)?;
        self.status_reason = Some(reason);
        Ok(())
    }

    /// Unfreezes a `FROZEN` account, for the given reason.
    pub fn unfreeze(&mut self, reason: String, now: OffsetDateTime) -> Result<(), AccountError> {
        self.transition(AccountStatus::Frozen, AccountStatus::Active, now)?;
        self.status_reason = Some(reason);
        Ok(())
    }

    /// Closes an account whose balance is exactly zero. A frozen account stays frozen until
    /// the bank lifts the freeze: closing it would end the investigation that froze it.
    pub fn close(&mut self, now: OffsetDateTime) -> Result<(), AccountError> {
        self.ensure_open()?;
        if self.status == AccountStatus::Frozen {
            return Err(AccountError::Frozen);
        }
        if self.balance_minor != 0 {
            return Err(AccountError::NotEmpty);
        }
        self.status = AccountStatus::Closed;
        self.closed_at = Some(now);
        self.touch(now);
        Ok(())
    }

    /// Sets (or clears) the owner's nickname.
    pub fn rename(
        &mut self,
        nickname: Option<String>,
        now: OffsetDateTime,
    ) -> Result<(), AccountError> {
        self.ensure_open()?;
        if self.nickname != nickname {
            self.nickname = nickname;
            self.touch(now);
        }
        Ok(())
    }

    /// Sets the overdraft limit: only current accounts have one, and it is capped like any
    /// amount. Lowering it below the current debt is allowed: it only stops further debits.
    pub fn set_overdraft_limit(
        &mut self,
        limit: Money,
        now: OffsetDateTime,
    ) -> Result<(), AccountError> {
        self.ensure_open()?;
        if limit.currency() != self.currency {
            return Err(AccountError::CurrencyNotAllowed);
        }
        let limit_minor = limit.amount_minor();
        if limit_minor < 0 || (limit_minor > 0 && !self.account_type.allows_overdraft()) {
            return Err(AccountError::OverdraftNotAllowed);
        }
        if self.overdraft_limit_minor != limit_minor {
            self.overdraft_limit_minor = limit_minor;
            self.touch(now);
        }
        Ok(())
    }

    /// Sets the daily outgoing limit (`None`: the bank's default). Like the overdraft limit, a
    /// teller's decision; lowering it below what already left today only stops further debits.
    pub fn set_daily_limit(
        &mut self,
        limit: Option<Money>,
        now: OffsetDateTime,
    ) -> Result<(), AccountError> {
        self.ensure_open()?;
        if limit.is_some_and(|limit| limit.currency() != self.currency) {
            return Err(AccountError::CurrencyNotAllowed);
        }
        let limit_minor = limit.map(|limit| limit.amount_minor());
        if limit_minor.is_some_and(|minor| minor < 0) {
            return Err(AccountError::InvalidDailyLimit);
        }
        if self.daily_limit_minor != limit_minor {
            self.daily_limit_minor = limit_minor;
            self.touch(now);
        }
        Ok(())
    }

    fn ensure_open(&self) -> Result<(), AccountError> {
        if self.status == AccountStatus::Closed {
            return Err(AccountError::Closed);
        }
        Ok(())
    }

    fn transition(
        &mut self,
        from: AccountStatus,
        to: AccountStatus,
        now: OffsetDateTime,
    ) -> Result<(), AccountError> {
        self.ensure_open()?;
        if self.status != from {
            return Err(AccountError::IllegalTransition {
                from: self.status.as_str(),
                to: to.as_str(),
            });
        }
        self.status = to;
        self.touch(now);
        Ok(())
    }

    pub(crate) fn touch(&mut self, now: OffsetDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}
