//! Undoing a refused command without copying the whole state.
//!
//! A command changes only what it names: its accounts (directly, or through the hold or the
//! transaction it names), the internal accounts, the hold or transaction it names, and the hold
//! or transaction it creates (both take the command's id). Copying those before it runs is
//! enough to put the state back exactly as it was; copying the whole state instead would make
//! a batch of `n` commands cost `n²`.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Hold, HoldId, InternalAccount, LedgerCommand, LedgerRequest, LedgerState, Transaction,
    TransactionId,
};
use crate::{Account, AccountId};

/// The entries a command may change, as they were before it ran (`None`: absent).
pub(super) struct RestorePoint {
    accounts: Vec<(AccountId, Option<Account>)>,
    internal: BTreeMap<InternalAccount, i64>,
    holds: Vec<(HoldId, Option<Hold>)>,
    transactions: Vec<(TransactionId, Option<Transaction>)>,
}

impl RestorePoint {
    /// Copies what `command` may change in `state`.
    pub(super) fn before(state: &LedgerState, command: &LedgerCommand) -> Self {
        let mut accounts: BTreeSet<AccountId> =
            command.request.named_accounts().into_iter().collect();
        let mut holds = BTreeSet::from([HoldId(command.id)]);
        let mut transactions = BTreeSet::from([TransactionId(command.id)]);
        match &command.request {
            LedgerRequest::Reverse { original, .. } => {
                transactions.insert(*original);
                if let Some(original) = state.transactions.get(original) {
                    accounts.extend(original.source);
                    accounts.extend(original.destination);
                }
            }
            LedgerRequest::CaptureHold { hold, .. }
            | LedgerRequest::ReleaseHold { hold }
            | LedgerRequest::ExpireHold { hold } => {
                holds.insert(*hold);
                if let Some(hold) = state.holds.get(hold) {
                    accounts.insert(hold.account_id);
                }
            }
            _ => {}
        }
        RestorePoint {
            accounts: saved(&state.accounts, accounts),
            internal: state.internal.clone(),
            holds: saved(&state.holds, holds),
            transactions: saved(&state.transactions, transactions),
        }
    }

    /// Puts the copied entries back.
    pub(super) fn restore(self, state: &mut LedgerState) {
        put_back(&mut state.accounts, self.accounts);
        state.internal = self.internal;
        put_back(&mut state.holds, self.holds);
        put_back(&mut state.transactions, self.transactions);
    }
}

fn saved<K: Ord + Copy, V: Clone>(map: &BTreeMap<K, V>, keys: BTreeSet<K>) -> Vec<(K, Option<V>)> {
    keys.into_iter()
        .map(|key| (key, map.get(&key).cloned()))
        .collect()
}

fn put_back<K: Ord, V>(map: &mut BTreeMap<K, V>, saved: Vec<(K, Option<V>)>) {
    for (key, value) in saved {
        match value {
            Some(value) => map.insert(key, value),
            None => map.remove(&key),
        };
    }
}
