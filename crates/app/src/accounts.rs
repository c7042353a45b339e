//! Account use cases: opening (with a generated French IBAN), reading, listing, servicing and
//! closing.

use coffre_domain::account::{parse_nickname, parse_reason};
use coffre_domain::ledger::{LedgerCommand, LedgerRequest};
use coffre_domain::{
    Account, AccountError, AccountId, AccountType, Currency, Customer, CustomerId, FrenchRib,
    Money, NewAccount,
};
use rand_core::{OsRng, RngCore};
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::ports::{AccountFilter, Clock, ConflictKind, LedgerBatch, LedgerOutcome, Storage};
use crate::{AppError, Principal, Service};

/// How many fresh IBANs to try when a generated one is already taken (about one chance in
/// 10^11 per account, so a second try is already rare).
const IBAN_ATTEMPTS: usize = 3;

/// A validated request to open an account.
#[derive(Debug, Clone)]
pub struct OpenAccount {
    /// The owner; a customer may leave it out (themself), staff must give it.
    pub customer_id: Option<CustomerId>,
    /// The account type.
    pub account_type: AccountType,
    /// The currency (EUR when left out).
    pub currency: Option<Currency>,
    /// An optional label.
    pub nickname: Option<String>,
}

/// A validated change to an account (PATCH: absent fields unchanged; PUT: all fields given).
#[derive(Debug, Clone, Default)]
pub struct UpdateAccount {
    /// New nickname; `Some(None)` clears it.
    pub nickname: Option<Option<String>>,
    /// New overdraft limit.
    pub overdraft_limit: Option<Money>,
    /// New daily outgoing limit; `Some(None)` restores the bank's default.
    pub daily_limit: Option<Option<Money>>,
}

/// What an account's representation shows beyond the stored account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountFigures {
    /// The sum of the account's pending holds.
    pub pending_holds: Money,
    /// The daily outgoing limit in force (its own, or the bank's default).
    pub daily_limit: Money,
}

/// An account's balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// The booked balance.
    pub current: Money,
    /// What can be spent now (current minus pending holds).
    pub available: Money,
    /// The sum of pending holds.
    pub pending_holds: Money,
}

/// Turns a domain refusal into the contract's error.
fn account_refusal(error: AccountError) -> AppError {
    match error {
        AccountError::Closed => AppError::AccountClosed,
        AccountError::Frozen => AppError::AccountFrozen,
        AccountError::NotEmpty => AppError::AccountNotEmpty,
        AccountError::IllegalTransition { .. } => AppError::Conflict(error.to_string()),
        AccountError::CustomerRejected => AppError::Conflict(error.to_string()),
        AccountError::CurrencyNotAllowed => AppError::invalid("currency", error),
        AccountError::OverdraftNotAllowed => AppError::invalid("overdraft_limit", error),
        AccountError::InvalidDailyLimit => AppError::invalid("daily_limit", error),
        AccountError::InvalidText(field, _) => AppError::invalid(field, error),
    }
}

/// Refuses with 412 when the client's `If-Match` version is not the current one.
fn check_version(account: &Account, if_match: Option<i64>) -> Result<(), AppError> {
    match if_match {
        Some(version) if version != account.version => Err(AppError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// A random eleven-digit account number.
fn random_account_number() -> String {
    let value = OsRng.next_u64() % 100_000_000_000;
    format!("{value:011}")
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Opens an account with a freshly generated French IBAN.
    pub async fn open_account(
        &self,
        caller: &Principal,
        request: OpenAccount,
    ) -> Result<Account, AppError> {
        let customer_id = if caller.role.can_service_accounts() {
            request.customer_id.ok_or_else(|| {
                AppError::invalid("customer_id", "staff must say whose account to open")
            })?
        } else {
            // Customers open accounts for themselves; auditors (no customer) open none.
            let own = caller.customer_id.ok_or(AppError::Forbidden)?;
            match request.customer_id {
                Some(asked) if asked != own => return Err(AppError::NotFound),
                _ => own,
            }
        };
        let nickname = request
            .nickname
            .as_deref()
            .map(parse_nickname)
            .transpose()
            .map_err(account_refusal)?;
        let currency = request.currency.unwrap_or(Currency::EUR);
        for _ in 0..IBAN_ATTEMPTS {
            let (id, iban, now) = (
                AccountId(Uuid::now_v7()),
                self.generate_iban()?,
                self.clock.now(),
            );
            let (account_type, bic, nickname) = (
                request.account_type,
                self.config.bank.bic.clone(),
                nickname.clone(),
            );
            // The account is built from the customer as locked by the store, so a concurrent
            // KYC decision is either fully before (ACTIVE) or fully after (PENDING_KYC, then
            // activated by that decision).
            let build = move |customer: &Customer| {
                let new = NewAccount {
                    id,
                    customer_id,
                    customer_kyc: customer.kyc_status,
                    account_type,
                    currency,
                    iban,
                    bic,
                    nickname,
                };
                Account::open(new, now).map_err(account_refusal)
            };
            let opened = self
                .store
                .insert_account(customer_id, caller.actor(), build)
                .await;
            match opened {
                Err(AppError::Duplicate(ConflictKind::Iban)) => continue,
                Err(error) => return Err(error),
                Ok(account) => {
                    tracing::info!(account_id = %account.id, iban = %account.iban.masked(), "account opened");
                    return Ok(account);
                }
            }
        }
        Err(AppError::Unknown(anyhow::anyhow!(
            "could not generate a free IBAN"
        )))
    }

    fn generate_iban(&self) -> Result<coffre_domain::Iban, AppError> {
        let bank = &self.config.bank;
        FrenchRib::new(&bank.bank_code, &bank.branch_code, &random_account_number())
            .map(|rib| rib.to_iban())
            .map_err(|e| AppError::Unknown(anyhow::anyhow!("bank identity is misconfigured: {e}")))
    }

    /// Reads an account: the owner or staff; anyone else gets 404.
    pub async fn get_account(
        &self,
        caller: &Principal,
        id: AccountId,
    ) -> Result<Account, AppError> {
        let account = self.cache.account(id, self.store.get_account(id)).await?;
        caller.require_read(account.customer_id)?;
        Ok(account)
    }

    /// Lists accounts: a customer sees only their own, staff see every account.
    pub async fn list_accounts(
        &self,
        caller: &Principal,
        mut filter: AccountFilter,
        page: PageRequest,
    ) -> Result<Page<Account>, AppError> {
        if !caller.role.is_staff() {
            let own = caller.customer_id.ok_or(AppError::Forbidden)?;
            if filter.customer_id.is_some_and(|asked| asked != own) {
                return Ok(Page {
                    items: Vec::new(),
                    total: 0,
                    request: page,
                });
            }
            filter.customer_id = Some(own);
        }
        Ok(self.store.list_accounts(&filter, page).await?)
    }

    /// Changes an account: the owner sets the nickname, servicing staff set the overdraft
    /// limit. A field given with its current value is not a change, so a full `PUT` of the
    /// current representation is allowed to anyone who may read it.
    pub async fn update_account(
        &self,
        caller: &Principal,
        id: AccountId,
        request: UpdateAccount,
        if_match: Option<i64>,
    ) -> Result<Account, AppError> {
        let caller = caller.clone();
        let now = self.clock.now();
        let policy = self.config.ledger;
        let nickname = match request.nickname {
            Some(Some(text)) => Some(Some(parse_nickname(&text).map_err(account_refusal)?)),
            other => other,
        };
        let updated = self
            .store
            .update_account(id, caller.actor(), move |account: &mut Account| {
                caller.require_read(account.customer_id)?;
                check_version(account, if_match)?;
                if let Some(nickname) = nickname.filter(|n| *n != account.nickname) {
                    if !caller.is_customer(account.customer_id) {
                        return Err(AppError::Forbidden);
                    }
                    account.rename(nickname, now).map_err(account_refusal)?;
                }
                if let Some(limit) = request.daily_limit {
                    if limit.is_some_and(|l| l.currency() != account.currency) {
                        return Err(AppError::CurrencyMismatch);
                    }
                    // Sending back the limit in force (as the representation shows it) is no
                    // change; clearing an own limit, or naming another amount, is.
                    let changes = match limit {
                        None => account.daily_limit_minor.is_some(),
                        Some(l) => l.amount_minor() != policy.daily_limit_minor(account),
                    };
                    if changes {
                        caller.require_servicing_staff()?;
                        account
                            .set_daily_limit(limit, now)
                            .map_err(account_refusal)?;
                    }
                }
                if let Some(limit) = request.overdraft_limit {
                    if limit.currency() != account.currency {
                        return Err(AppError::CurrencyMismatch);
                    }
                    if limit.amount_minor() != account.overdraft_limit_minor {
                        caller.require_servicing_staff()?;
                        account
                            .set_overdraft_limit(limit, now)
                            .map_err(account_refusal)?;
                    }
                }
                Ok(())
            })
            .await;
        // Forgotten whatever the result: a failed commit may still have happened.
        self.cache.forget_accounts(&[id]).await;
        updated
    }

    /// Closes an account (owner or servicing staff): only with a zero balance and no pending
    /// hold. The account is kept, with status `CLOSED`. The engine decides under the account's
    /// lock, so a hold or a deposit racing the close is either seen or refused.
    pub async fn close_account(
        &self,
        caller: &Principal,
        id: AccountId,
        if_match: Option<i64>,
    ) -> Result<Account, AppError> {
        let account = self.store.get_account(id).await?;
        caller.require_read(account.customer_id)?;
        if !caller.is_customer(account.customer_id) {
            caller.require_servicing_staff()?;
        }
        check_version(&account, if_match)?;
        let batch = LedgerBatch {
            commands: vec![LedgerCommand {
                id: Uuid::now_v7(),
                request: LedgerRequest::Close { account: id },
            }],
            atomic: true,
            actor: caller.actor(),
            now: self.clock.now(),
            policy: self.config.ledger,
            idempotency: None,
        };
        let closed = match self.run_ledger(batch).await? {
            LedgerOutcome::Executed { results, .. } => {
                results
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        AppError::Unknown(anyhow::anyhow!("the engine returned no result"))
                    })??
                    .account
            }
            LedgerOutcome::Replayed(_) | LedgerOutcome::KeyReused => None,
        };
        let closed = closed
            .ok_or_else(|| AppError::Unknown(anyhow::anyhow!("the engine closed no account")))?;
        tracing::info!(account_id = %id, "account closed");
        Ok(closed)
    }

    /// Freezes (`freeze = true`) or unfreezes an account: tellers and admins only.
    pub async fn set_frozen(
        &self,
        caller: &Principal,
        id: AccountId,
        freeze: bool,
        reason: &str,
    ) -> Result<Account, AppError> {
        let caller = caller.clone();
        let reason = parse_reason(reason).map_err(account_refusal)?;
        let now = self.clock.now();
        let account = self
            .store
            .update_account(id, caller.actor(), move |account: &mut Account| {
                caller.require_read(account.customer_id)?;
                caller.require_servicing_staff()?;
                let changed = if freeze {
                    account.freeze(reason, now)
                } else {
                    account.unfreeze(reason, now)
                };
                changed.map_err(account_refusal)
            })
            .await;
        self.cache.forget_accounts(&[id]).await;
        let account = account?;
        tracing::info!(account_id = %id, status = account.status.as_str(), "account freeze changed");
        Ok(account)
    }

    /// What an account's representation shows beyond the stored account: its pending holds
    /// (now) and the daily limit in force.
    pub async fn account_figures(&self, account: &Account) -> Result<AccountFigures, AppError> {
        let pending = self
            .store
            .pending_holds_minor(account.id, self.clock.now())
            .await?;
        let money = |minor: i64| {
            Money::from_minor(minor, account.currency)
                .map_err(|e| AppError::Unknown(anyhow::anyhow!("amount out of range: {e}")))
        };
        Ok(AccountFigures {
            pending_holds: money(pending)?,
            daily_limit: money(self.config.ledger.daily_limit_minor(account))?,
        })
    }

    /// An account's balances: `available` is `current` minus the pending holds.
    pub async fn balance(&self, caller: &Principal, id: AccountId) -> Result<Balance, AppError> {
        let account = self.get_account(caller, id).await?;
        let current = account.balance();
        let pending_holds = self.account_figures(&account).await?.pending_holds;
        let available = current
            .checked_sub(pending_holds)
            .map_err(|e| AppError::Unknown(anyhow::anyhow!("amount out of range: {e}")))?;
        Ok(Balance {
            current,
            available,
            pending_holds,
        })
    }
}
