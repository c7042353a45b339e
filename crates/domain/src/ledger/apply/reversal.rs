//! Reversing a completed transaction with its mirror image.

use time::OffsetDateTime;

use super::booking::{Movement, book};
use crate::events::Event;
use crate::ledger::ids::TransactionId;
use crate::ledger::outcome::{Applied, LedgerError};
use crate::ledger::policy::LedgerPolicy;
use crate::ledger::state::LedgerState;
use crate::ledger::transaction::{Direction, TransactionStatus, TransactionType};

pub(super) fn reverse(
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
