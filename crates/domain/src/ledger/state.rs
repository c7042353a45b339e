//! [`LedgerState`]: the locked state of everything a batch touches.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::account::{Account, AccountId};
use crate::ledger::hold::Hold;
use crate::ledger::ids::{HoldId, TransactionId};
use crate::ledger::internal::{InternalAccount, LedgerAccount};
use crate::ledger::outcome::LedgerError;
use crate::ledger::transaction::Transaction;

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

    pub(super) fn account(&self, id: AccountId) -> Result<&Account, LedgerError> {
        self.accounts
            .get(&id)
            .ok_or(LedgerError::UnknownAccount(id))
    }

    pub(super) fn balance(&self, account: LedgerAccount) -> Result<i64, LedgerError> {
        match account {
            LedgerAccount::Customer(id) => Ok(self.account(id)?.balance_minor),
            LedgerAccount::Internal(internal) => {
                Ok(self.internal.get(&internal).copied().unwrap_or(0))
            }
        }
    }
}
