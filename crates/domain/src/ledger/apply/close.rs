//! Closing an account through the ledger: it must hold no money and no pending hold.

use time::OffsetDateTime;

use crate::account::{AccountError, AccountId};
use crate::events::Event;
use crate::ledger::outcome::{Applied, LedgerError};
use crate::ledger::state::LedgerState;

pub(super) fn close(
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
