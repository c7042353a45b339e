//! The read cache: accounts, customers and the first page of an account's statement lines,
//! kept in process (moka: bounded, with a time to live) and dropped by every write that
//! changes them.
//!
//! Two promises, and how they are kept:
//!
//! - **A read that follows a write on the same node never sees the old value.** Every write
//!   forgets what it changed before it answers. That alone is not enough: a read that loaded
//!   the old row just before the write committed could put it back just after the write forgot
//!   it. So a read takes a *ticket* (its key's generation) before it loads, and may fill the
//!   cache only if no write forgot that key since; the check and the fill happen under the same
//!   lock as the write's "forget", so one of them always comes first.
//! - **Money is never decided from the cache.** The transaction engine reads balances in the
//!   database, under row locks; only what a client reads goes through here.
//!
//! Another node's write is not seen here until the entry's time to live runs out (the
//! documented bound on cross-node staleness, ADR 0015).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coffre_domain::ledger::{Applied, LedgerAccount};
use coffre_domain::{Account, AccountId, Customer, CustomerId};

use crate::ports::{LedgerOutcome, StoreError};
use crate::statements::LinesPage;

/// How the read cache behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Off: every read goes to the database.
    pub enabled: bool,
    /// How long an entry lives: the most another node's write stays unseen here.
    pub ttl: Duration,
    /// The most entries each kind (accounts, customers, pages) keeps.
    pub capacity: u64,
}

impl Default for CacheConfig {
    /// Two seconds bounds what a client of one node may miss of another node's write, and
    /// still serves a polling client (a balance refreshed every second) from memory.
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            ttl: Duration::from_secs(2),
            capacity: 100_000,
        }
    }
}

/// Keys are spread over this many generation counters: a write makes only the fills of keys
/// sharing its counter retry, not every fill in flight.
const SHARDS: usize = 64;

/// A key's generation when a read began loading it.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    shard: usize,
    generation: u64,
}

/// One kind of cached value: the entries, and the generations that keep stale fills out.
struct Slot<K, V> {
    name: &'static str,
    entries: moka::sync::Cache<K, V>,
    generations: Vec<Mutex<u64>>,
    hasher: RandomState,
}

impl<K, V> Slot<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(name: &'static str, config: CacheConfig) -> Self {
        Slot {
            name,
            entries: moka::sync::Cache::builder()
                .max_capacity(config.capacity)
                .time_to_live(config.ttl)
                .build(),
            generations: (0..SHARDS).map(|_| Mutex::new(0)).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &K) -> usize {
        // The modulo keeps the value below SHARDS, so the conversion cannot fail.
        usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0)
    }

    fn generation(&self, shard: usize) -> std::sync::MutexGuard<'_, u64> {
        // A panic while holding the lock leaves a plain counter behind: still usable.
        self.generations[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, key: &K) -> Option<V> {
        let found = self.entries.get(key);
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("coffre_cache_requests_total", "cache" => self.name, "result" => result)
            .increment(1);
        found
    }

    fn ticket(&self, key: &K) -> Ticket {
        let shard = self.shard(key);
        Ticket {
            shard,
            generation: *self.generation(shard),
        }
    }

    /// Keeps `value` unless a write forgot its key since `ticket` was taken (the value may be
    /// older than that write).
    fn fill(&self, key: K, ticket: Ticket, value: V) {
        let generation = self.generation(ticket.shard);
        if *generation == ticket.generation {
            self.entries.insert(key, value);
        }
    }

    fn forget(&self, key: &K) {
        let mut generation = self.generation(self.shard(key));
        *generation = generation.wrapping_add(1);
        self.entries.invalidate(key);
    }

    fn forget_all(&self) {
        for shard in 0..SHARDS {
            let mut generation = self.generation(shard);
            *generation = generation.wrapping_add(1);
        }
        self.entries.invalidate_all();
    }

    /// The cached value, or what `load` reads (then cached).
    async fn read<E>(&self, key: K, load: impl Future<Output = Result<V, E>>) -> Result<V, E> {
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let ticket = self.ticket(&key);
        let value = load.await?;
        self.fill(key, ticket, value.clone());
        Ok(value)
    }
}

struct Slots {
    accounts: Slot<AccountId, Account>,
    customers: Slot<CustomerId, Customer>,
    recent_lines: Slot<AccountId, LinesPage>,
}

/// The read cache (see the module documentation). Cheap to clone: clones share the entries.
#[derive(Clone)]
pub struct ReadCache {
    /// `None` when the cache is off.
    slots: Option<Arc<Slots>>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("enabled", &self.slots.is_some())
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        let slots = config.enabled.then(|| {
            Arc::new(Slots {
                accounts: Slot::new("account", config),
                customers: Slot::new("customer", config),
                recent_lines: Slot::new("recent_lines", config),
            })
        });
        ReadCache { slots }
    }

    /// The value of `key` in the slot `pick` chooses, or what `load` reads (then cached);
    /// with the cache off, always `load`.
    async fn read<K, V, E>(
        &self,
        pick: fn(&Slots) -> &Slot<K, V>,
        key: K,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E>
    where
        K: Hash + Eq + Send + Sync + Clone + 'static,
        V: Clone + Send + Sync + 'static,
    {
        match &self.slots {
            Some(slots) => pick(slots).read(key, load).await,
            None => load.await,
        }
    }

    /// An account, from the cache or from `load`.
    pub(crate) async fn account<E>(
        &self,
        id: AccountId,
        load: impl Future<Output = Result<Account, E>>,
    ) -> Result<Account, E> {
        self.read(|slots| &slots.accounts, id, load).await
    }

    /// A customer, from the cache or from `load`.
    pub(crate) async fn customer<E>(
        &self,
        id: CustomerId,
        load: impl Future<Output = Result<Customer, E>>,
    ) -> Result<Customer, E> {
        self.read(|slots| &slots.customers, id, load).await
    }

    /// The first page of an account's statement lines (no filter, default size), from the
    /// cache or from `load`.
    pub(crate) async fn recent_lines<E>(
        &self,
        id: AccountId,
        load: impl Future<Output = Result<LinesPage, E>>,
    ) -> Result<LinesPage, E> {
        self.read(|slots| &slots.recent_lines, id, load).await
    }

    /// Forgets an account (its row changed: status, limits, nickname or balance) and its
    /// recent lines.
    pub(crate) fn forget_account(&self, id: AccountId) {
        if let Some(slots) = &self.slots {
            slots.accounts.forget(&id);
            slots.recent_lines.forget(&id);
        }
    }

    /// Forgets a customer and every account (a KYC decision opens or closes the customer's
    /// pending accounts; being rare, it is not worth finding which).
    pub(crate) fn forget_customer(&self, id: CustomerId) {
        if let Some(slots) = &self.slots {
            slots.customers.forget(&id);
            slots.accounts.forget_all();
        }
    }

    /// Forgets what a ledger run changed: every customer account its results touched. When
    /// the run failed, whether it committed is unknown, so every account and page is
    /// forgotten.
    pub(crate) fn forget_ledger_outcome(&self, outcome: &Result<LedgerOutcome, StoreError>) {
        let Some(slots) = &self.slots else { return };
        match outcome {
            Ok(LedgerOutcome::Executed { results, .. }) => results
                .iter()
                .flatten()
                .flat_map(touched_accounts)
                .for_each(|id| self.forget_account(id)),
            // A replay or a refused key changed nothing now.
            Ok(LedgerOutcome::Replayed(_) | LedgerOutcome::KeyReused) => {}
            Err(_) => {
                slots.accounts.forget_all();
                slots.recent_lines.forget_all();
            }
        }
    }
}

/// The customer accounts a command's result changed: the accounts its postings moved, the
/// account of the hold it placed or changed, the account it closed.
fn touched_accounts(applied: &Applied) -> impl Iterator<Item = AccountId> + '_ {
    let posted = applied
        .transaction
        .iter()
        .flat_map(|transaction| &transaction.postings)
        .filter_map(|posting| match posting.account {
            LedgerAccount::Customer(id) => Some(id),
            LedgerAccount::Internal(_) => None,
        });
    posted
        .chain(applied.hold.iter().map(|hold| hold.account_id))
        .chain(applied.account.iter().map(|account| account.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot() -> Slot<u32, &'static str> {
        Slot::new("test", CacheConfig::default())
    }

    #[test]
    fn a_load_that_raced_a_write_is_not_kept() {
        let slot = slot();
        let ticket = slot.ticket(&7);
        // The write commits and forgets the key while the read is still loading.
        slot.forget(&7);
        slot.fill(7, ticket, "old");
        assert_eq!(slot.get(&7), None);
    }

    #[test]
    fn a_load_after_the_last_write_is_kept_until_the_next_write() {
        let slot = slot();
        let ticket = slot.ticket(&7);
        slot.fill(7, ticket, "current");
        assert_eq!(slot.get(&7), Some("current"));
        slot.forget(&7);
        assert_eq!(slot.get(&7), None);
    }

    #[test]
    fn forgetting_everything_turns_away_every_load_in_flight() {
        let slot = slot();
        let tickets: Vec<(u32, Ticket)> = (0..200).map(|key| (key, slot.ticket(&key))).collect();
        slot.forget_all();
        for (key, ticket) in tickets {
            slot.fill(key, ticket, "old");
            assert_eq!(slot.get(&key), None, "key {key}");
        }
    }
}
