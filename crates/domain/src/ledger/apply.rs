//! [`apply`]: what a batch of requests does to the accounts it touches, decided purely.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::account::{
    Account, AccountError, AccountId, AccountStatus, AccountType, LIVRET_A_CEILING_MINOR,
};
use crate::events::Event;
use crate::iban::Iban;
use crate::ledger::hold::{Hold, HoldId, HoldStatus};
use crate::ledger::internal::{InternalAccount, InternalKind, LedgerAccount};
use crate::ledger::restore::RestorePoint;
use crate::ledger::transaction::{
    Direction, Posting, Transaction, TransactionId, TransactionStatus, TransactionType,
};
use crate::money::{MAX_AMOUNT_MINOR, Money};

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

/// The locked state of everything a batch touches, as the store loaded it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerState {
    /// The customer accounts the batch names.
    pub accounts: BTreeMap<AccountId, Account>,
    /// Balances of the internal accounts the batch may touch, in minor units.
    pub internal: BTreeMap<InternalAccount, i64>,
    /// Every `ACTIVE` hold on those accounts, and every hold the batch names.
    pub holds: BTreeMap<HoldId, Hold>,
    /// The transactions the batch reverses (and, after `apply`, the ones it booked).
    pub transactions: BTreeMap<TransactionId, Transaction>,
}

impl LedgerState {
    /// What `account`'s pending holds reserve at `now`, in minor units.
    pub fn pending_holds_minor(&self, account: AccountId, now: OffsetDateTime) -> i64 {
        self.holds
            .values()
            .filter(|hold| hold.account_id == account && hold.is_pending(now))
            .map(|hold| hold.amount.amount_minor())
            .sum()
    }

    fn account(&self, id: AccountId) -> Result<&Account, LedgerError> {
        self.accounts
            .get(&id)
            .ok_or(LedgerError::UnknownAccount(id))
    }

    fn balance(&self, account: LedgerAccount) -> Result<i64, LedgerError> {
        match account {
            LedgerAccount::Customer(id) => Ok(self.account(id)?.balance_minor),
            LedgerAccount::Internal(internal) => {
                Ok(self.internal.get(&internal).copied().unwrap_or(0))
            }
        }
    }
}

/// One request of a batch, with the id of what it creates (a transaction or a hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCommand {
    /// The id of the transaction or hold the request creates (UUIDv7, made by the caller).
    pub id: Uuid,
    /// What is asked.
    pub request: LedgerRequest,
}

/// What a client can ask of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerRequest {
    /// Cash in: the cash account pays the customer account.
    Deposit {
        /// The account credited.
        account: AccountId,
        /// How much.
        amount: Money,
        /// Statement text.
        label: Option<String>,
    },
    /// Cash out: the customer account pays the cash account.
    Withdrawal {
        /// The account debited.
        account: AccountId,
        /// How much.
        amount: Money,
        /// Statement text.
        label: Option<String>,
    },
    /// From one customer account to another of this bank.
    Transfer {
        /// The account debited.
        source: AccountId,
        /// The account credited.
        destination: AccountId,
        /// How much.
        amount: Money,
        /// Statement text.
        label: Option<String>,
        /// The IBAN the payer named, when addressed by IBAN.
        counterparty_iban: Option<Iban>,
    },
    /// Undo a completed transaction with its mirror image.
    Reverse {
        /// The transaction to undo.
        original: TransactionId,
        /// Statement text.
        label: Option<String>,
    },
    /// Reserve money on an account.
    PlaceHold {
        /// The account.
        account: AccountId,
        /// How much.
        amount: Money,
        /// When the reservation lapses by itself.
        expires_at: OffsetDateTime,
    },
    /// Turn a hold into a payment to the card settlement account: all of it, or part of it
    /// (the rest is freed).
    CaptureHold {
        /// The hold.
        hold: HoldId,
        /// How much, if less than the hold.
        amount: Option<Money>,
        /// Statement text.
        label: Option<String>,
    },
    /// Free a hold without moving money.
    ReleaseHold {
        /// The hold.
        hold: HoldId,
    },
    /// Mark a hold that reached its expiry (it already reserves nothing).
    ExpireHold {
        /// The hold.
        hold: HoldId,
    },
    /// Close an account: it must hold no money and no pending hold.
    Close {
        /// The account.
        account: AccountId,
    },
}

impl LedgerRequest {
    /// The amount the request names, if any.
    pub fn amount(&self) -> Option<Money> {
        match self {
            LedgerRequest::Deposit { amount, .. }
            | LedgerRequest::Withdrawal { amount, .. }
            | LedgerRequest::Transfer { amount, .. }
            | LedgerRequest::PlaceHold { amount, .. } => Some(*amount),
            LedgerRequest::CaptureHold { amount, .. } => *amount,
            LedgerRequest::Reverse { .. }
            | LedgerRequest::ReleaseHold { .. }
            | LedgerRequest::ExpireHold { .. }
            | LedgerRequest::Close { .. } => None,
        }
    }

    /// The customer accounts the request names directly (holds and reversals name theirs
    /// through the hold or transaction, which the store looks up).
    pub fn named_accounts(&self) -> Vec<AccountId> {
        match self {
            LedgerRequest::Deposit { account, .. }
            | LedgerRequest::Withdrawal { account, .. }
            | LedgerRequest::PlaceHold { account, .. }
            | LedgerRequest::Close { account } => vec![*account],
            LedgerRequest::Transfer {
                source,
                destination,
                ..
            } => vec![*source, *destination],
            LedgerRequest::Reverse { .. }
            | LedgerRequest::CaptureHold { .. }
            | LedgerRequest::ReleaseHold { .. }
            | LedgerRequest::ExpireHold { .. } => Vec::new(),
        }
    }
}

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

/// Applies `commands` in order to `state`: each either changes it and says what it did, or is
/// refused and leaves it exactly as it was, so a later command sees an earlier one's effect.
/// For an all-or-nothing batch, the caller discards the state when any command is refused.
pub fn apply(
    state: &mut LedgerState,
    commands: &[LedgerCommand],
    policy: &LedgerPolicy,
    now: OffsetDateTime,
) -> Vec<Result<Applied, LedgerError>> {
    commands
        .iter()
        .map(|command| {
            // A refusal halfway through (a debit done, then the credit refused) is undone.
            let restore_point = RestorePoint::before(state, command);
            let outcome = apply_one(state, command, policy, now);
            if outcome.is_err() {
                restore_point.restore(state);
            }
            outcome
        })
        .collect()
}

fn apply_one(
    state: &mut LedgerState,
    command: &LedgerCommand,
    policy: &LedgerPolicy,
    now: OffsetDateTime,
) -> Result<Applied, LedgerError> {
    let id = TransactionId(command.id);
    if command
        .request
        .amount()
        .is_some_and(|amount| amount.amount_minor() <= 0)
    {
        return Err(LedgerError::NonPositiveAmount);
    }
    match &command.request {
        LedgerRequest::Deposit {
            account,
            amount,
            label,
        } => {
            let cash = internal(InternalKind::Cash, *amount);
            let movement = Movement::new(TransactionType::Deposit, *amount, label);
            book(
                state,
                movement.between(cash, LedgerAccount::Customer(*account)),
                id,
                policy,
                now,
            )
        }
        LedgerRequest::Withdrawal {
            account,
            amount,
            label,
        } => {
            if state.account(*account)?.account_type == AccountType::LivretA {
                return Err(LedgerError::LivretARestricted);
            }
            let cash = internal(InternalKind::Cash, *amount);
            let movement = Movement::new(TransactionType::Withdrawal, *amount, label);
            book(
                state,
                movement.between(LedgerAccount::Customer(*account), cash),
                id,
                policy,
                now,
            )
        }
        LedgerRequest::Transfer {
            source,
            destination,
            amount,
            label,
            counterparty_iban,
        } => {
            if source == destination {
                return Err(LedgerError::SameAccount);
            }
            check_livret_a_transfer(state.account(*source)?, state.account(*destination)?)?;
            let mut movement = Movement::new(TransactionType::Transfer, *amount, label).between(
                LedgerAccount::Customer(*source),
                LedgerAccount::Customer(*destination),
            );
            movement.counterparty_iban = counterparty_iban.clone();
            book(state, movement, id, policy, now)
        }
        LedgerRequest::Reverse { original, label } => {
            reverse(state, id, *original, label, policy, now)
        }
        LedgerRequest::PlaceHold {
            account,
            amount,
            expires_at,
        } => place_hold(
            state,
            HoldId(command.id),
            *account,
            *amount,
            *expires_at,
            policy,
            now,
        ),
        LedgerRequest::CaptureHold {
            hold,
            amount,
            label,
        } => capture_hold(state, id, *hold, *amount, label, policy, now),
        LedgerRequest::ReleaseHold { hold } => end_hold(state, *hold, HoldStatus::Released, now),
        LedgerRequest::ExpireHold { hold } => end_hold(state, *hold, HoldStatus::Expired, now),
        LedgerRequest::Close { account } => close(state, *account, now),
    }
}

fn internal(kind: InternalKind, amount: Money) -> LedgerAccount {
    LedgerAccount::Internal(InternalAccount {
        kind,
        currency: amount.currency(),
    })
}

/// A movement of `amount` from one account to another, before it is checked and booked.
struct Movement {
    transaction_type: TransactionType,
    amount: Money,
    label: Option<String>,
    debit: Option<LedgerAccount>,
    credit: Option<LedgerAccount>,
    counterparty_iban: Option<Iban>,
    reverses: Option<TransactionId>,
    hold: Option<HoldId>,
    /// The hold this movement consumes: its reservation counts as available for the debit.
    consumes_hold_minor: i64,
}

impl Movement {
    fn new(transaction_type: TransactionType, amount: Money, label: &Option<String>) -> Self {
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

    fn between(mut self, debit: LedgerAccount, credit: LedgerAccount) -> Self {
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
fn check_can_move(account: &Account, amount: Money) -> Result<(), LedgerError> {
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
fn check_livret_a_transfer(source: &Account, destination: &Account) -> Result<(), LedgerError> {
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
fn book(
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

fn reverse(
    state: &mut LedgerState,
    id: TransactionId,
    original_id: TransactionId,
    label: &Option<String>,
    policy: &LedgerPolicy,
    now: OffsetDateTime,
) -> Result<Applied, LedgerError> {
    let original = state
        .transactions
        .get(&original_id)
        .ok_or(LedgerError::UnknownTransaction(original_id))?
        .clone();
    let reversible = original.status == TransactionStatus::Completed
        && original.transaction_type != TransactionType::Reversal
        && original.postings.len() == 2;
    if !reversible {
        return Err(LedgerError::NotReversible);
    }
    // The original's credit is debited back and its debit credited back.
    let find = |direction| {
        original
            .postings
            .iter()
            .find(|posting| posting.direction == direction)
            .map(|posting| posting.account)
            .ok_or(LedgerError::NotReversible)
    };
    let (debit, credit) = (find(Direction::Credit)?, find(Direction::Debit)?);
    let label = label
        .clone()
        .or_else(|| Some(format!("Reversal of {original_id}")));
    let mut movement =
        Movement::new(TransactionType::Reversal, original.amount, &label).between(debit, credit);
    movement.reverses = Some(original_id);
    let mut applied = book(state, movement, id, policy, now)?;
    if let Some(stored) = state.transactions.get_mut(&original_id) {
        stored.status = TransactionStatus::Reversed;
        stored.reversed_by = Some(id);
    }
    applied.events.push(Event::TransactionReversed {
        transaction_id: original_id,
        reversal_id: id,
    });
    Ok(applied)
}

fn place_hold(
    state: &mut LedgerState,
    id: HoldId,
    account_id: AccountId,
    amount: Money,
    expires_at: OffsetDateTime,
    policy: &LedgerPolicy,
    now: OffsetDateTime,
) -> Result<Applied, LedgerError> {
    if expires_at <= now || expires_at - now > policy.max_hold_duration {
        return Err(LedgerError::InvalidExpiry);
    }
    let pending = state.pending_holds_minor(account_id, now);
    let account = state.account(account_id)?;
    check_can_move(account, amount)?;
    if account.account_type == AccountType::LivretA {
        return Err(LedgerError::LivretARestricted);
    }
    let available = account.balance_minor - pending;
    if available - amount.amount_minor() < -account.overdraft_limit_minor {
        return Err(LedgerError::InsufficientFunds);
    }
    let hold = Hold {
        id,
        account_id,
        amount,
        status: HoldStatus::Active,
        expires_at,
        captured_minor: None,
        capture_transaction: None,
        created_at: now,
        updated_at: now,
    };
    state.holds.insert(id, hold.clone());
    Ok(Applied {
        events: vec![Event::hold_placed(&hold)],
        hold: Some(hold),
        transaction: None,
        account: None,
    })
}

fn active_hold(state: &LedgerState, id: HoldId, now: OffsetDateTime) -> Result<Hold, LedgerError> {
    let hold = state.holds.get(&id).ok_or(LedgerError::UnknownHold(id))?;
    if !hold.is_pending(now) {
        return Err(LedgerError::HoldNotActive);
    }
    Ok(hold.clone())
}

fn capture_hold(
    state: &mut LedgerState,
    id: TransactionId,
    hold_id: HoldId,
    amount: Option<Money>,
    label: &Option<String>,
    policy: &LedgerPolicy,
    now: OffsetDateTime,
) -> Result<Applied, LedgerError> {
    let mut hold = active_hold(state, hold_id, now)?;
    let amount = amount.unwrap_or(hold.amount);
    if amount.currency() != hold.amount.currency() {
        return Err(LedgerError::CurrencyMismatch);
    }
    if amount.amount_minor() > hold.amount.amount_minor() {
        return Err(LedgerError::CaptureExceedsHold);
    }
    let settlement = internal(InternalKind::CardSettlement, amount);
    let mut movement = Movement::new(TransactionType::HoldCapture, amount, label)
        .between(LedgerAccount::Customer(hold.account_id), settlement);
    movement.hold = Some(hold_id);
    movement.consumes_hold_minor = hold.amount.amount_minor();
    let mut applied = book(state, movement, id, policy, now)?;
    hold.status = HoldStatus::Captured;
    hold.captured_minor = Some(amount.amount_minor());
    hold.capture_transaction = Some(id);
    hold.updated_at = now;
    state.holds.insert(hold_id, hold.clone());
    applied.events.push(Event::HoldCaptured {
        hold_id,
        account_id: hold.account_id,
        captured_minor: amount.amount_minor(),
        transaction_id: id,
    });
    applied.hold = Some(hold);
    Ok(applied)
}

/// Releases a pending hold, or marks an active one that reached its expiry as expired.
fn end_hold(
    state: &mut LedgerState,
    hold_id: HoldId,
    status: HoldStatus,
    now: OffsetDateTime,
) -> Result<Applied, LedgerError> {
    let mut hold = state
        .holds
        .get(&hold_id)
        .cloned()
        .ok_or(LedgerError::UnknownHold(hold_id))?;
    let allowed = match status {
        HoldStatus::Expired => hold.status == HoldStatus::Active && !hold.is_pending(now),
        _ => hold.is_pending(now),
    };
    if !allowed {
        return Err(LedgerError::HoldNotActive);
    }
    hold.status = status;
    hold.updated_at = now;
    state.holds.insert(hold_id, hold.clone());
    let event = if status == HoldStatus::Expired {
        Event::HoldExpired {
            hold_id,
            account_id: hold.account_id,
        }
    } else {
        Event::HoldReleased {
            hold_id,
            account_id: hold.account_id,
        }
    };
    Ok(Applied {
        events: vec![event],
        hold: Some(hold),
        transaction: None,
        account: None,
    })
}

fn close(
    state: &mut LedgerState,
    account_id: AccountId,
    now: OffsetDateTime,
) -> Result<Applied, LedgerError> {
    if state.pending_holds_minor(account_id, now) != 0 {
        return Err(LedgerError::AccountNotEmpty);
    }
    let account = state
        .accounts
        .get_mut(&account_id)
        .ok_or(LedgerError::UnknownAccount(account_id))?;
    account.close(now).map_err(|error| match error {
        AccountError::Frozen => LedgerError::AccountFrozen,
        AccountError::NotEmpty => LedgerError::AccountNotEmpty,
        _ => LedgerError::AccountClosed,
    })?;
    let account = account.clone();
    Ok(Applied {
        events: vec![Event::AccountClosed {
            account_id: account.id,
        }],
        transaction: None,
        hold: None,
        account: Some(account),
    })
}
