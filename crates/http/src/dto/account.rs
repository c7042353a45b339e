//! Accounts on the wire.

use coffre_app::FieldError;
use coffre_app::accounts::{AccountFigures, Balance, OpenAccount, UpdateAccount};
use coffre_app::ports::AccountFilter;
use coffre_domain::{Account, AccountStatus, AccountType, CustomerId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::{CurrencyCode, MoneyDto};
use super::timestamp;

/// Account type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum AccountTypeDto {
    /// Current account.
    COURANT,
    /// Savings account.
    EPARGNE,
    /// Regulated savings (Livret A): EUR, no overdraft, ceiling 22 950.00 EUR, one per customer.
    LIVRET_A,
}

impl From<AccountTypeDto> for AccountType {
    fn from(t: AccountTypeDto) -> Self {
        match t {
            AccountTypeDto::COURANT => AccountType::Courant,
            AccountTypeDto::EPARGNE => AccountType::Epargne,
            AccountTypeDto::LIVRET_A => AccountType::LivretA,
        }
    }
}

impl From<AccountType> for AccountTypeDto {
    fn from(t: AccountType) -> Self {
        match t {
            AccountType::Courant => AccountTypeDto::COURANT,
            AccountType::Epargne => AccountTypeDto::EPARGNE,
            AccountType::LivretA => AccountTypeDto::LIVRET_A,
        }
    }
}

/// Account status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum AccountStatusDto {
    /// Waiting for the owner's KYC.
    PENDING_KYC,
    /// Open.
    ACTIVE,
    /// Blocked by the bank.
    FROZEN,
    /// Closed (kept, never deleted).
    CLOSED,
}

impl From<AccountStatusDto> for AccountStatus {
    fn from(s: AccountStatusDto) -> Self {
        match s {
            AccountStatusDto::PENDING_KYC => AccountStatus::PendingKyc,
            AccountStatusDto::ACTIVE => AccountStatus::Active,
            AccountStatusDto::FROZEN => AccountStatus::Frozen,
            AccountStatusDto::CLOSED => AccountStatus::Closed,
        }
    }
}

impl From<AccountStatus> for AccountStatusDto {
    fn from(s: AccountStatus) -> Self {
        match s {
            AccountStatus::PendingKyc => AccountStatusDto::PENDING_KYC,
            AccountStatus::Active => AccountStatusDto::ACTIVE,
            AccountStatus::Frozen => AccountStatusDto::FROZEN,
            AccountStatus::Closed => AccountStatusDto::CLOSED,
        }
    }
}

/// Request to open an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAccountBody {
    /// The owner: required for staff, optional (yourself) for a customer.
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    /// Account type.
    #[serde(rename = "type")]
    pub account_type: AccountTypeDto,
    /// Currency (default EUR).
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
    /// A label of your choice (1 to 64 characters).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub nickname: Option<String>,
}

impl OpenAccountBody {
    /// Into a command (field checks that need the domain happen in the use case).
    pub fn into_domain(self) -> OpenAccount {
        OpenAccount {
            customer_id: self.customer_id.map(CustomerId),
            account_type: self.account_type.into(),
            currency: self.currency.map(Into::into),
            nickname: self.nickname,
        }
    }
}

/// Deserialises a present field (even `null`) as `Some(value)`, so that PATCH can tell
/// "absent" (unchanged) from `null` (cleared).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Partial change (PATCH): absent fields are unchanged; `nickname: null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAccountBody {
    /// New label (owner only), or `null` to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64)]
    pub nickname: Option<Option<String>>,
    /// New overdraft limit (tellers and admins; current accounts only).
    #[serde(default)]
    pub overdraft_limit: Option<MoneyDto>,
    /// New daily outgoing limit (tellers and admins), or `null` for the bank's default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<MoneyDto>)]
    pub daily_limit: Option<Option<MoneyDto>>,
}

/// Full replacement of the changeable fields (PUT).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutAccountBody {
    /// Label (owner only), or `null` for none.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64)]
    pub nickname: Option<Option<String>>,
    /// Overdraft limit (tellers and admins; current accounts only).
    pub overdraft_limit: MoneyDto,
    /// Daily outgoing limit (tellers and admins); `null` or absent: the bank's default.
    #[serde(default)]
    pub daily_limit: Option<MoneyDto>,
}

impl PatchAccountBody {
    /// Validates into a command.
    pub fn try_into_domain(self) -> Result<UpdateAccount, Vec<FieldError>> {
        let overdraft_limit = self
            .overdraft_limit
            .map(|m| m.try_non_negative("overdraft_limit"))
            .transpose()
            .map_err(|e| vec![e])?;
        let daily_limit = self
            .daily_limit
            .map(|limit| limit.map(|m| m.try_non_negative("daily_limit")).transpose())
            .transpose()
            .map_err(|e| vec![e])?;
        Ok(UpdateAccount {
            nickname: self.nickname,
            overdraft_limit,
            daily_limit,
        })
    }
}

impl PutAccountBody {
    /// Validates into a command.
    pub fn try_into_domain(self) -> Result<UpdateAccount, Vec<FieldError>> {
        // A replacement: an absent limit is the bank's default, like `null`.
        PatchAccountBody {
            nickname: self.nickname,
            overdraft_limit: Some(self.overdraft_limit),
            daily_limit: Some(self.daily_limit),
        }
        .try_into_domain()
    }
}

/// Freeze or unfreeze request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeBody {
    /// Why (1 to 500 characters; kept on the account).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Current and available balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBalanceDto {
    /// Booked balance.
    pub current: MoneyDto,
    /// Spendable now: current minus pending holds.
    pub available: MoneyDto,
}

/// Balances with pending holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceDto {
    /// Booked balance.
    pub current: MoneyDto,
    /// Spendable now: current minus pending holds.
    pub available: MoneyDto,
    /// Sum of pending holds.
    pub pending_holds: MoneyDto,
}

impl From<Balance> for BalanceDto {
    fn from(b: Balance) -> Self {
        BalanceDto {
            current: b.current.into(),
            available: b.available.into(),
            pending_holds: b.pending_holds.into(),
        }
    }
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDto {
    /// Identifier (UUIDv7).
    pub id: Uuid,
    /// Owner.
    pub customer_id: Uuid,
    /// French IBAN, electronic form.
    #[schema(example = "FR7699999000010123456789012")]
    pub iban: String,
    /// The bank's BIC.
    pub bic: String,
    /// Account type.
    #[serde(rename = "type")]
    pub account_type: AccountTypeDto,
    /// Status.
    pub status: AccountStatusDto,
    /// Why the bank last froze or unfroze the account.
    pub status_reason: Option<String>,
    /// Currency of every amount on the account.
    pub currency: CurrencyCode,
    /// Owner's label.
    pub nickname: Option<String>,
    /// Balances.
    pub balance: AccountBalanceDto,
    /// How far below zero the available balance may go.
    pub overdraft_limit: MoneyDto,
    /// The most that may leave the account in one UTC day (its own limit, or the bank's
    /// default).
    pub daily_limit: MoneyDto,
    /// Opening time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Closing time.
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
}

impl AccountDto {
    /// The representation of `a`, with its pending holds and daily limit.
    pub fn new(a: Account, figures: AccountFigures) -> Self {
        let balance = a.balance();
        // Pending holds never exceed what the ledger let them reserve, so this stays in range.
        let available = balance
            .checked_sub(figures.pending_holds)
            .unwrap_or(balance);
        AccountDto {
            id: a.id.0,
            customer_id: a.customer_id.0,
            iban: a.iban.electronic().to_owned(),
            bic: a.bic.as_str().to_owned(),
            account_type: a.account_type.into(),
            status: a.status.into(),
            status_reason: a.status_reason.clone(),
            currency: a.currency.into(),
            nickname: a.nickname.clone(),
            balance: AccountBalanceDto {
                current: balance.into(),
                available: available.into(),
            },
            overdraft_limit: a.overdraft_limit().into(),
            daily_limit: figures.daily_limit.into(),
            created_at: timestamp::format(a.created_at),
            updated_at: timestamp::format(a.updated_at),
            closed_at: timestamp::format_opt(a.closed_at),
        }
    }
}

/// Filters and paging of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountListQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Only accounts of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub account_type: Option<AccountTypeDto>,
    /// Only accounts in this status.
    pub status: Option<AccountStatusDto>,
    /// Only this customer's accounts.
    pub customer_id: Option<Uuid>,
}

impl AccountListQuery {
    /// The store filter.
    pub fn filter(&self) -> AccountFilter {
        AccountFilter {
            customer_id: self.customer_id.map(CustomerId),
            account_type: self.account_type.map(Into::into),
            status: self.status.map(Into::into),
        }
    }
}
