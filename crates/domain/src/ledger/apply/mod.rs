//! [`apply`]: what a batch of requests does to the accounts it touches, decided purely.

mod booking;
mod close;
mod holds;
mod reversal;

use time::OffsetDateTime;

use crate::account::AccountType;
use crate::ledger::command::{LedgerCommand, LedgerRequest};
use crate::ledger::hold::HoldStatus;
use crate::ledger::ids::{HoldId, TransactionId};
use crate::ledger::internal::{InternalKind, LedgerAccount};
use crate::ledger::outcome::{Applied, LedgerError};
use crate::ledger::policy::LedgerPolicy;
use crate::ledger::restore::RestorePoint;
use crate::ledger::state::LedgerState;
use crate::ledger::transaction::TransactionType;

use booking::{Movement, book, check_livret_a_transfer, internal};
use close::close;
use holds::{capture_hold, end_hold, place_hold};
use reversal::reverse;

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
