//! Bank accounts: types, statuses and the only transitions a bank allows between them.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::customer::{CustomerId, KycStatus, bounded_text};
use crate::iban::{Bic, Iban};
use crate::money::{Currency, Money};

/// An account's identifier (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub Uuid);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iban::FrenchRib;
    use proptest::prelude::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    fn open(
        account_type: AccountType,
        kyc: KycStatus,
        currency: Currency,
    ) -> Result<Account, AccountError> {
        let iban = FrenchRib::new("99999", "00001", "00000000001")
            .map(|rib| rib.to_iban())
            .map_err(|_| AccountError::Closed)?;
        let bic = Bic::parse("COFRFRPP").map_err(|_| AccountError::Closed)?;
        Account::open(
            NewAccount {
                id: AccountId(Uuid::nil()),
                customer_id: CustomerId(Uuid::nil()),
                customer_kyc: kyc,
                account_type,
                currency,
                iban,
                bic,
                nickname: None,
            },
            NOW,
        )
    }

    #[test]
    fn an_account_reads_back_from_its_serialised_form_unchanged()
    -> Result<(), Box<dyn std::error::Error>> {
        let mut account = open(AccountType::Courant, KycStatus::Verified, Currency::EUR)?;
        // Sub-millisecond instants and every optional field set: nothing may be rounded or lost.
        account.updated_at = datetime!(2026-11-21 10:00:00.123456789 UTC);
        account.nickname = Some("Épargne vacances".to_owned());
        account.daily_limit_minor = Some(50_000);
        account.outgoing_day = Some(NOW.date());
        let text = serde_json::to_string(&account)?;
        let back: Account = serde_json::from_str(&text)?;
        assert_eq!(back, account);
        Ok(())
    }

    #[test]
    fn accounts_of_verified_customers_open_active_and_others_wait_for_kyc() {
        let status = |kyc| open(AccountType::Courant, kyc, Currency::EUR).map(|a| a.status);
        assert_eq!(status(KycStatus::Verified), Ok(AccountStatus::Active));
        assert_eq!(status(KycStatus::Pending), Ok(AccountStatus::PendingKyc));
        assert_eq!(
            status(KycStatus::Rejected),
            Err(AccountError::CustomerRejected)
        );
    }

    #[test]
    fn a_livret_a_is_only_offered_in_euros_and_has_no_overdraft() -> Result<(), AccountError> {
        assert_eq!(
            open(AccountType::LivretA, KycStatus::Verified, Currency::USD).map(|a| a.status),
            Err(AccountError::CurrencyNotAllowed)
        );
        let mut livret = open(AccountType::LivretA, KycStatus::Verified, Currency::EUR)?;
        let hundred = Money::from_minor(10_000, Currency::EUR)
            .map_err(|_| AccountError::OverdraftNotAllowed)?;
        assert_eq!(
            livret.set_overdraft_limit(hundred, NOW),
            Err(AccountError::OverdraftNotAllowed)
        );
        Ok(())
    }

    #[test]
    fn an_account_with_money_cannot_be_closed() -> Result<(), AccountError> {
        let mut account = open(AccountType::Courant, KycStatus::Verified, Currency::EUR)?;
        account.balance_minor = 1;
        assert_eq!(account.close(NOW), Err(AccountError::NotEmpty));
        account.balance_minor = -1;
        assert_eq!(account.close(NOW), Err(AccountError::NotEmpty));
        account.balance_minor = 0;
        account.close(NOW)?;
        assert_eq!(account.status, AccountStatus::Closed);
        assert_eq!(account.closed_at, Some(NOW));
        Ok(())
    }

    #[test]
    fn a_kyc_rejection_closes_only_pending_accounts() -> Result<(), AccountError> {
        let mut pending = open(AccountType::Courant, KycStatus::Pending, Currency::EUR)?;
        assert!(pending.close_after_kyc_rejection(NOW));
        assert_eq!(
            (pending.status, pending.closed_at),
            (AccountStatus::Closed, Some(NOW))
        );
        let mut active = open(AccountType::Courant, KycStatus::Verified, Currency::EUR)?;
        assert!(!active.close_after_kyc_rejection(NOW));
        assert_eq!(active.status, AccountStatus::Active);
        Ok(())
    }

    #[derive(Debug, Clone, Copy)]
    enum Action {
        Activate,
        Freeze,
        Unfreeze,
        Close,
    }

    fn apply(account: &mut Account, action: Action) -> bool {
        match action {
            Action::Activate => account.activate_after_kyc(NOW),
            Action::Freeze => account.freeze("investigation".into(), NOW).is_ok(),
            Action::Unfreeze => account.unfreeze("cleared".into(), NOW).is_ok(),
            Action::Close => account.close(NOW).is_ok(),
        }
    }

    /// The legal transitions, written out as a table independent of the implementation.
    fn is_legal(from: AccountStatus, action: Action, balance_minor: i64) -> Option<AccountStatus> {
        use AccountStatus::*;
        match (from, action) {
            (PendingKyc, Action::Activate) => Some(Active),
            (Active, Action::Freeze) => Some(Frozen),
            (Frozen, Action::Unfreeze) => Some(Active),
            (PendingKyc | Active, Action::Close) if balance_minor == 0 => Some(Closed),
            _ => None,
        }
    }

    proptest! {
        #[test]
        fn only_legal_transitions_happen_and_refusals_change_nothing(
            actions in proptest::collection::vec(
                proptest::sample::select(vec![Action::Activate, Action::Freeze, Action::Unfreeze, Action::Close]),
                0..20,
            ),
            balance_minor in -1i64..=1,
        ) {
            let mut account = open(AccountType::Courant, KycStatus::Pending, Currency::EUR)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            account.balance_minor = balance_minor;
            for action in actions {
                let before = account.clone();
                let expected = is_legal(before.status, action, balance_minor);
                let changed = apply(&mut account, action);
                match expected {
                    Some(status) => {
                        prop_assert!(changed);
                        prop_assert_eq!(account.status, status);
                        prop_assert_eq!(account.version, before.version + 1);
                    }
                    None => {
                        prop_assert!(!changed);
                        prop_assert_eq!(&account, &before);
                    }
                }
            }
        }
    }
}
