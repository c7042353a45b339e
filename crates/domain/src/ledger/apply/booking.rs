//! Booking a movement: the checks on both accounts, then the balanced transaction.

use time::{Date, OffsetDateTime};

use crate::account::{Account, AccountId, AccountStatus, AccountType, LIVRET_A_CEILING_MINOR};
use crate::events::Event;
use crate::iban::Iban;
use crate::ledger::ids::{HoldId, TransactionId};
use crate::ledger::internal::{InternalAccount, InternalKind, LedgerAccount};
use crate::ledger::outcome::{Applied, LedgerError};
use crate::ledger::policy::LedgerPolicy;
use crate::ledger::state::LedgerState;
use crate::ledger::transaction::{
    Direction, Posting, Transaction, TransactionStatus, TransactionType,
};
use crate::money::{MAX_AMOUNT_MINOR, Money};

/// The internal account of `kind` in `amount`'s currency.
pub(super) fn internal(kind: InternalKind, amount: Money) -> LedgerAccount {
    LedgerAccount::Internal(InternalAccount {
        kind,
        currency: amount.currency(),
    })
}

/// A movement of `amount` from one account to another, before it is checked and booked.
pub(super) struct Movement {
    transaction_type: TransactionType,
    amount: Money,
    label: Option<String>,
    debit: Option<LedgerAccount>,
    credit: Option<LedgerAccount>,
    pub(super) counterparty_iban: Option<Iban>,
    pub(super) reverses: Option<TransactionId>,
    pub(super) hold: Option<HoldId>,
    /// The hold this movement consumes: its reservation counts as available for the debit.
    pub(super) consumes_hold_minor: i64,
}

impl Movement {
    pub(super) fn new(
        transaction_type: TransactionType,
        amount: Money,
        label: &Option<String>,
    ) -> Self {
        Movement {
            transaction_type,
            amount,
            label: label.clone(),
            debit: None,
            credit: None,
            counterparty_iban: None,
            reverses: None,
            hold: None,
            consumes_hold_minor: 0,
        }
    }

    pub(super) fn between(mut self, debit: LedgerAccount, credit: LedgerAccount) -> Self {
        self.debit = Some(debit);
        self.credit = Some(credit);
        self
    }

    /// Whether the debit counts against the daily outgoing limit: what a customer spends, not
    /// the bank's corrections.
    fn counts_as_outgoing(&self) -> bool {
        matches!(
            self.transaction_type,
            TransactionType::Withdrawal | TransactionType::Transfer | TransactionType::HoldCapture
        )
    }
}

/// Checks a customer account can take part in a movement at all.
pub(super) fn check_can_move(account: &Account, amount: Money) -> Result<(), LedgerError> {
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::Frozen => return Err(LedgerError::AccountFrozen),
        AccountStatus::Closed => return Err(LedgerError::AccountClosed),
        AccountStatus::PendingKyc => return Err(LedgerError::AccountPendingKyc),
    }
    if account.currency != amount.currency() {
        return Err(LedgerError::CurrencyMismatch);
    }
    Ok(())
}

/// Money leaves a Livret A only for its owner's own current account.
pub(super) fn check_livret_a_transfer(
    source: &Account,
    destination: &Account,
) -> Result<(), LedgerError> {
    let allowed = source.account_type != AccountType::LivretA
        || (destination.account_type == AccountType::Courant
            && destination.customer_id == source.customer_id);
    if allowed {
        Ok(())
    } else {
        Err(LedgerError::LivretARestricted)
    }
}

/// Checks and books a movement: debit first, then credit, then the transaction.
pub(super) fn book(
    state: &mut LedgerState,
    movement: Movement,
    id: TransactionId,
    policy: &LedgerPolicy,
    now: OffsetDateTime,
) -> Result<Applied, LedgerError> {
    let (Some(debit), Some(credit)) = (movement.debit, movement.credit) else {
        return Err(LedgerError::NotReversible);
    };
    let amount = movement.amount;
    let debit_after = debit_account(state, debit, &movement, policy, now)?;
    let credit_after = credit_account(state, credit, amount, now)?;
    let postings = vec![
        Posting {
            account: debit,
            direction: Direction::Debit,
            amount,
            balance_after_minor: debit_after,
        },
        Posting {
            account: credit,
            direction: Direction::Credit,
            amount,
            balance_after_minor: credit_after,
        },
    ];
    let transaction = Transaction {
        id,
        transaction_type: movement.transaction_type,
        status: TransactionStatus::Completed,
        amount,
        source: customer_of(debit),
        destination: customer_of(credit),
        counterparty_iban: movement.counterparty_iban,
        label: movement.label,
        reverses: movement.reverses,
        reversed_by: None,
        hold: movement.hold,
        postings,
        created_at: now,
        completed_at: Some(now),
    };
    state.transactions.insert(id, transaction.clone());
    Ok(Applied {
        events: vec![Event::transaction_completed(&transaction)],
        transaction: Some(transaction),
        hold: None,
        account: None,
    })
}

fn customer_of(account: LedgerAccount) -> Option<AccountId> {
    match account {
        LedgerAccount::Customer(id) => Some(id),
        LedgerAccount::Internal(_) => None,
    }
}

/// Debits an account and returns its new balance; a customer account must be open, in the
/// right currency, within its overdraft and (for spending) its daily limit.
fn debit_account(
    state: &mut LedgerState,
    account: LedgerAccount,
    movement: &Movement,
    policy: &LedgerPolicy,
    now: OffsetDateTime,
) -> Result<i64, LedgerError> {
    let amount = movement.amount.amount_minor();
    let id = match account {
        LedgerAccount::Internal(internal) => return shift_internal(state, internal, -amount),
        LedgerAccount::Customer(id) => id,
    };
    let pending = state.pending_holds_minor(id, now) - movement.consumes_hold_minor;
    let today = now.date();
    let customer = state.account(id)?;
    check_can_move(customer, movement.amount)?;
    let balance = customer
        .balance_minor
        .checked_sub(amount)
        .ok_or(LedgerError::BalanceOutOfRange)?;
    if balance - pending < -customer.overdraft_limit_minor {
        return Err(LedgerError::InsufficientFunds);
    }
    let outgoing = if movement.counts_as_outgoing() {
        let spent = spent_on(customer, today);
        let outgoing = spent.saturating_add(amount);
        if outgoing > policy.daily_limit_minor(customer) {
            return Err(LedgerError::DailyLimitExceeded);
        }
        Some(outgoing)
    } else {
        None
    };
    let customer = state
        .accounts
        .get_mut(&id)
        .ok_or(LedgerError::UnknownAccount(id))?;
    customer.balance_minor = balance;
    if let Some(outgoing) = outgoing {
        customer.outgoing_day = Some(today);
        customer.outgoing_today_minor = outgoing;
    }
    customer.touch(now);
    Ok(balance)
}

/// What already left `account` on `day`.
fn spent_on(account: &Account, day: Date) -> i64 {
    if account.outgoing_day == Some(day) {
        account.outgoing_today_minor
    } else {
        0
    }
}

/// Credits an account and returns its new balance; a customer account must be open, in the
/// right currency, and a Livret A stays under its ceiling.
fn credit_account(
    state: &mut LedgerState,
    account: LedgerAccount,
    amount: Money,
    now: OffsetDateTime,
) -> Result<i64, LedgerError> {
    let minor = amount.amount_minor();
    let id = match account {
        LedgerAccount::Internal(internal) => return shift_internal(state, internal, minor),
        LedgerAccount::Customer(id) => id,
    };
    let customer = state.account(id)?;
    check_can_move(customer, amount)?;
    let balance = customer
        .balance_minor
        .checked_add(minor)
        .filter(|balance| *balance <= MAX_AMOUNT_MINOR)
        .ok_or(LedgerError::BalanceOutOfRange)?;
    if customer.account_type == AccountType::LivretA && balance > LIVRET_A_CEILING_MINOR {
        return Err(LedgerError::CeilingExceeded);
    }
    let customer = state
        .accounts
        .get_mut(&id)
        .ok_or(LedgerError::UnknownAccount(id))?;
    customer.balance_minor = balance;
    customer.touch(now);
    Ok(balance)
}

fn shift_internal(
    state: &mut LedgerState,
    account: InternalAccount,
    delta: i64,
) -> Result<i64, LedgerError> {
    let balance = state
        .balance(LedgerAccount::Internal(account))?
        .checked_add(delta)
        .ok_or(LedgerError::BalanceOutOfRange)?;
    state.internal.insert(account, balance);
    Ok(balance)
}
