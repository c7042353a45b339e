//! The audit log's port: reading the hash-chained event log and the ledger's totals.

use std::future::Future;

use coffre_domain::events::{ChainHead, EventRecord};
use coffre_domain::ledger::InternalAccount;
use coffre_domain::{AccountId, AccountStatus, Currency};

use crate::ports::StoreError;

/// Filters of the event list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events of this stream (an account, customer, transaction or hold id).
    pub stream_id: Option<uuid::Uuid>,
    /// Only events of this type.
    pub event_type: Option<String>,
}

/// Per currency, the sums the trial balance shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyTotals {
    /// The currency.
    pub currency: Currency,
    /// The sum of all customer account balances, in minor units.
    pub customer_accounts_minor: i64,
    /// Each internal account of this currency and its balance, in minor units.
    pub internal_accounts: Vec<(InternalAccount, i64)>,
}

/// What the live tables say about one account (compared with a replay of the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// The account.
    pub id: AccountId,
    /// Its status.
    pub status: AccountStatus,
    /// Its current balance, in minor units.
    pub balance_minor: i64,
}

/// The live state a replay of the log must reproduce, read from one snapshot together with
/// the sequence of the last event it includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveState {
    /// Every customer account.
    pub accounts: Vec<AccountSnapshot>,
    /// Every internal account's balance, in minor units.
    pub internal_accounts: Vec<(InternalAccount, i64)>,
    /// The last event sequence that the snapshot includes.
    pub last_sequence: i64,
}

/// Reads of the event log. The log is append-only: only [`crate::ports::Ledger::execute`] and
/// the store's other writes append to it, in their own transactions.
pub trait AuditLog: Clone + Send + Sync + 'static {
    /// Events in sequence order after `after` (a sequence number; 0 for the start), at most
    /// `limit`, filtered.
    fn events(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<EventRecord>, StoreError>> + Send;

    /// Per currency totals of customer and internal accounts, from one snapshot.
    fn trial_balance(&self)
    -> impl Future<Output = Result<Vec<CurrencyTotals>, StoreError>> + Send;

    /// Every account's status and balance and every internal balance, from one snapshot,
    /// with the last event sequence it includes.
    fn live_state(&self) -> impl Future<Output = Result<LiveState, StoreError>> + Send;

    /// Where the chain stands now: the sequence and hash of the last event appended.
    fn chain_head(&self) -> impl Future<Output = Result<ChainHead, StoreError>> + Send;
}
