//! The engine-independent steps of `Ledger::execute`, decided without SQL: which rows a batch
//! touches, what to write back after [`coffre_domain::ledger::apply`], and how its events are
//! numbered and chained. Each adapter locks, reads and writes with its own SQL around these.

use std::collections::{BTreeMap, BTreeSet};

use coffre_app::ports::{BatchResults, StoreError};
use coffre_domain::events::{Actor, ChainHead, Event, EventRecord, chain_record};
use coffre_domain::ledger::{
    Hold, HoldId, InternalAccount, LedgerCommand, LedgerRequest, LedgerState, Transaction,
    TransactionId,
};
use coffre_domain::{Account, AccountId, Currency};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::writes::{account_to_update, stored_instant};

/// What a batch names, before anything is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// Customer accounts named directly.
    pub accounts: BTreeSet<AccountId>,
    /// Holds named by captures, releases and expiries (their accounts are learned by reading
    /// them).
    pub holds: BTreeSet<HoldId>,
    /// Transactions to reverse (their accounts are learned by reading their postings).
    pub originals: BTreeSet<TransactionId>,
    /// Currencies of the amounts the batch names.
    pub currencies: BTreeSet<Currency>,
}

/// Collects what `commands` name.
pub fn touched<'a>(commands: impl IntoIterator<Item = &'a LedgerCommand>) -> Touched {
    let mut touched = Touched::default();
    for command in commands {
        touched.accounts.extend(command.request.named_accounts());
        match &command.request {
            LedgerRequest::Deposit { amount, .. }
            | LedgerRequest::Withdrawal { amount, .. }
            | LedgerRequest::Transfer { amount, .. }
            | LedgerRequest::PlaceHold { amount, .. } => {
                touched.currencies.insert(amount.currency());
            }
            LedgerRequest::Reverse { original, .. } => {
                touched.originals.insert(*original);
            }
            LedgerRequest::CaptureHold { hold, amount, .. } => {
                touched.holds.insert(*hold);
                if let Some(amount) = amount {
                    touched.currencies.insert(amount.currency());
                }
            }
            LedgerRequest::ReleaseHold { hold } | LedgerRequest::ExpireHold { hold } => {
                touched.holds.insert(*hold);
            }
            LedgerRequest::Close { .. } => {}
        }
    }
    touched
}

/// The internal accounts to lock for these currencies, in ascending id order (the lock order).
pub fn internal_accounts_of(currencies: &BTreeSet<Currency>) -> Vec<InternalAccount> {
    let mut accounts: Vec<InternalAccount> = InternalAccount::all()
        .filter(|account| currencies.contains(&account.currency))
        .collect();
    accounts.sort_by_key(|account| account.id());
    accounts
}

/// Every currency the locked state involves: its accounts', its holds' and its originals'
/// (with those the batch names, see [`Touched::currencies`]).
pub fn state_currencies(state: &LedgerState) -> BTreeSet<Currency> {
    let accounts = state.accounts.values().map(|account| account.currency);
    let holds = state.holds.values().map(|hold| hold.amount.currency());
    let originals = state
        .transactions
        .values()
        .map(|transaction| transaction.amount.currency());
    accounts.chain(holds).chain(originals).collect()
}

/// An account to write back: its new state, and the version it must still have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpdate {
    /// The version read under the lock (`WHERE version = ?`).
    pub before_version: i64,
    /// What to write, at the stored precision.
    pub after: Account,
}

/// What a batch writes. Written in this order, because of the foreign keys: accounts, internal
/// balances, new transactions (with their postings, in command order), changed transactions
/// (a reversed original points to its new reversal), new holds, changed holds (a captured hold
/// points to its capture).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerDiff {
    /// Accounts whose version changed.
    pub accounts: Vec<AccountUpdate>,
    /// Internal accounts whose balance changed, with the new balance.
    pub internal: Vec<(InternalAccount, i64)>,
    /// Transactions booked by the batch, in command order.
    pub new_transactions: Vec<Transaction>,
    /// Transactions that existed and changed (reversed originals).
    pub changed_transactions: Vec<Transaction>,
    /// Holds placed by the batch.
    pub new_holds: Vec<Hold>,
    /// Holds that existed and changed.
    pub changed_holds: Vec<Hold>,
}

impl LedgerDiff {
    /// True when nothing is to be written.
    pub fn is_empty(&self) -> bool {
        *self == LedgerDiff::default()
    }
}

/// A hold at the stored precision.
fn normalise_hold(mut hold: Hold) -> Hold {
    hold.expires_at = stored_instant(hold.expires_at);
    hold.created_at = stored_instant(hold.created_at);
    hold.updated_at = stored_instant(hold.updated_at);
    hold
}

/// A transaction at the stored precision.
fn normalise_transaction(mut transaction: Transaction) -> Transaction {
    transaction.created_at = stored_instant(transaction.created_at);
    transaction.completed_at = transaction.completed_at.map(stored_instant);
    transaction
}

/// The position of each booked transaction in the batch's results, to insert them (and so
/// number their postings) in booking order.
fn booking_order(results: &BatchResults) -> BTreeMap<TransactionId, usize> {
    results
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .filter_map(|applied| applied.transaction.as_ref())
        .enumerate()
        .map(|(position, transaction)| (transaction.id, position))
        .collect()
}

/// What changed between the state as loaded (`before`) and after `apply` (`after`).
pub fn ledger_diff(
    before: &LedgerState,
    after: &LedgerState,
    results: &BatchResults,
) -> Result<LedgerDiff, StoreError> {
    let mut diff = LedgerDiff::default();
    for (id, account) in &after.accounts {
        let loaded = before
            .accounts
            .get(id)
            .ok_or_else(|| StoreError::Unknown(anyhow::anyhow!("the ledger added account {id}")))?;
        if let Some(after) = account_to_update(loaded, account.clone())? {
            diff.accounts.push(AccountUpdate {
                before_version: loaded.version,
                after,
            });
        }
    }
    for (account, balance) in &after.internal {
        if before.internal.get(account) != Some(balance) {
            diff.internal.push((*account, *balance));
        }
    }
    for (id, transaction) in &after.transactions {
        match before.transactions.get(id) {
            None => diff
                .new_transactions
                .push(normalise_transaction(transaction.clone())),
            Some(loaded) if loaded != transaction => diff
                .changed_transactions
                .push(normalise_transaction(transaction.clone())),
            Some(_) => {}
        }
    }
    let order = booking_order(results);
    diff.new_transactions
        .sort_by_key(|transaction| (order.get(&transaction.id).copied(), transaction.id));
    for (id, hold) in &after.holds {
        match before.holds.get(id) {
            None => diff.new_holds.push(normalise_hold(hold.clone())),
            Some(loaded) if loaded != hold => diff.changed_holds.push(normalise_hold(hold.clone())),
            Some(_) => {}
        }
    }
    Ok(diff)
}

/// True when an all-or-nothing batch must write nothing (but its idempotency record).
pub fn discards(atomic: bool, results: &BatchResults) -> bool {
    atomic && results.iter().any(Result::is_err)
}

/// The events of the accepted results, in command order.
pub fn events_of(results: &BatchResults) -> Vec<Event> {
    results
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .flat_map(|applied| applied.events.iter().cloned())
        .collect()
}

/// `events`, each attributed to `actor`.
pub fn attributed(events: &[Event], actor: Actor) -> Vec<(Event, Actor)> {
    events.iter().map(|event| (event.clone(), actor)).collect()
}

/// The streams the events belong to (to read each one's current version once).
pub fn streams_of(events: &[(Event, Actor)]) -> BTreeSet<Uuid> {
    events.iter().map(|(event, _)| event.stream_id()).collect()
}

/// The stream version of each event, given the current (highest stored) version of each
/// stream; a stream missing from `current` has no events yet.
pub fn stream_versions(events: &[(Event, Actor)], current: &BTreeMap<Uuid, i64>) -> Vec<i64> {
    let mut versions = current.clone();
    events
        .iter()
        .map(|(event, _)| {
            let version = versions.entry(event.stream_id()).or_insert(0);
            *version += 1;
            *version
        })
        .collect()
}

/// Chains `events` (each with who caused it) after `head`: the records to insert, in order,
/// and the new head.
pub fn chain_events(
    head: ChainHead,
    events: &[(Event, Actor)],
    current_versions: &BTreeMap<Uuid, i64>,
    now: OffsetDateTime,
) -> Result<(Vec<EventRecord>, ChainHead), StoreError> {
    let now = stored_instant(now);
    let versions = stream_versions(events, current_versions);
    let mut head = head;
    let mut records = Vec::with_capacity(events.len());
    for ((event, actor), version) in events.iter().zip(versions) {
        let sequence = head.last_sequence + 1;
        let record = chain_record(head.last_hash, sequence, version, event, *actor, now).map_err(
            |error| {
                StoreError::Unknown(anyhow::Error::new(error).context("failed to encode an event"))
            },
        )?;
        head = ChainHead {
            last_sequence: sequence,
            last_hash: record.hash,
        };
        records.push(record);
    }
    Ok((records, head))
}

#[cfg(test)]
mod tests;
