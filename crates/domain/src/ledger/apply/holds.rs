//! Placing, capturing, releasing and expiring holds.

use time::OffsetDateTime;

use super::booking::{Movement, book, check_can_move, internal};
use crate::account::{AccountId, AccountType};
use crate::events::Event;
use crate::ledger::hold::{Hold, HoldStatus};
use crate::ledger::ids::{HoldId, TransactionId};
use crate::ledger::internal::{InternalKind, LedgerAccount};
use crate::ledger::outcome::{Applied, LedgerError};
use crate::ledger::policy::LedgerPolicy;
use crate::ledger::state::LedgerState;
use crate::ledger::transaction::TransactionType;
use crate::money::Money;

pub(super) fn place_hold(
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

pub(super) fn capture_hold(
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
pub(super) fn end_hold(
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
