//! The read cache: accounts, customers and the first page of an account's statement lines,
//! kept in process ([`local`]: bounded, with a time to live) or, when nodes share a
//! Redis, in Redis ([`shared`]), and dropped by every write that changes them.
//!
//! Two promises, and how they are kept:
//!
//! - **A read that follows a write on the same node never sees the old value.** Every write
//!   forgets what it changed before it answers. That alone is not enough: a read that loaded
//!   the old row just before the write committed could put it back just after the write forgot
//!   it. So a read takes a *ticket* (its key's generation) before it loads, and may fill the
//!   cache only if no write forgot that key since; each tier checks and fills atomically with
//!   respect to the forget, so one of them always comes first.
//! - **Money is never decided from the cache.** The transaction engine reads balances in the
//!   database, under row locks; only what a client reads goes through here.
//!
//! In process, another node's write is not seen here until the entry's time to live runs out;
//! in Redis, every node sees it at once (ADR 0015).

mod config;
mod counting;
mod local;
mod shared;

use std::fmt::Display;
use std::hash::Hash;
use std::sync::Arc;

use coffre_domain::ledger::{Applied, LedgerAccount};
use coffre_domain::{Account, AccountId, Customer, CustomerId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::{LedgerOutcome, LinesPage, MakeCacheEntries, SharedCache, StoreError};
pub use config::CacheConfig;
use local::Slot;
use shared::SharedTier;

/// Every key of the shared tier names the version of the values' serialised form: a build
/// that changes a cached type's fields bumps it, so that two builds sharing one Redis during a
/// rolling upgrade never read each other's entries.
const SHARED_FORM: u32 = 1;

/// One kind of cached value.
trait Kind {
    /// What a value is found by.
    type Key: Copy + Hash + Eq + Display + Send + Sync + 'static;
    /// The value.
    type Value: Clone + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Names the kind in metrics and in shared keys.
    const NAME: &'static str;
    /// Its in-process slot.
    fn slot(slots: &LocalSlots) -> &Slot<Self::Key, Self::Value>;

    /// Its key in the shared tier, such as `account:v1:<uuid>`.
    fn shared_key(key: Self::Key) -> String {
        format!("{}:v{SHARED_FORM}:{key}", Self::NAME)
    }
}

/// Accounts by id.
struct Accounts;
/// Customers by id.
struct Customers;
/// The first page of an account's statement lines (no filter, default size), by account id.
struct RecentLines;

impl Kind for Accounts {
    type Key = AccountId;
    type Value = Account;
    const NAME: &'static str = "account";
    fn slot(slots: &LocalSlots) -> &Slot<AccountId, Account> {
        &slots.accounts
    }
}

impl Kind for Customers {
    type Key = CustomerId;
    type Value = Customer;
    const NAME: &'static str = "customer";
    fn slot(slots: &LocalSlots) -> &Slot<CustomerId, Customer> {
        &slots.customers
    }
}

impl Kind for RecentLines {
    type Key = AccountId;
    type Value = LinesPage;
    const NAME: &'static str = "recent_lines";
    fn slot(slots: &LocalSlots) -> &Slot<AccountId, LinesPage> {
        &slots.recent_lines
    }
}

/// The in-process tier's slots, one per kind.
struct LocalSlots {
    accounts: Slot<AccountId, Account>,
    customers: Slot<CustomerId, Customer>,
    recent_lines: Slot<AccountId, LinesPage>,
}

/// Where the entries live.
#[derive(Clone)]
enum Tier {
    /// Nowhere: every read goes to the database.
    Off,
    /// In this process.
    Local(Arc<LocalSlots>),
    /// In a cache every node shares.
    Shared(Arc<SharedTier>),
}

/// The read cache (see the module documentation). Cheap to clone: clones share the entries.
#[derive(Clone)]
pub struct ReadCache {
    config: CacheConfig,
    tier: Tier,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tier = match self.tier {
            Tier::Off => "off",
            Tier::Local(_) => "local",
            Tier::Shared(_) => "shared",
        };
        f.debug_struct("ReadCache")
            .field("tier", &tier)
            .field("config", &self.config)
            .finish()
    }
}

impl ReadCache {
    /// An empty in-process cache whose entries `entries` makes (or none, when `config` turns
    /// it off).
    pub fn new(config: CacheConfig, entries: &impl MakeCacheEntries) -> Self {
        let tier = if config.enabled {
            Tier::Local(Arc::new(LocalSlots {
                accounts: Slot::new(Accounts::NAME, config, entries),
                customers: Slot::new(Customers::NAME, config, entries),
                recent_lines: Slot::new(RecentLines::NAME, config, entries),
            }))
        } else {
            Tier::Off
        };
        ReadCache { config, tier }
    }

    /// The same cache, kept in `backend` (shared by every node) instead of in process; still
    /// none when the configuration turns it off.
    pub fn shared(self, backend: Arc<dyn SharedCache>) -> Self {
        let tier = if self.config.enabled {
            Tier::Shared(Arc::new(SharedTier::new(backend, self.config.ttl)))
        } else {
            Tier::Off
        };
        ReadCache { tier, ..self }
    }

    /// The value of `key`, from the cache or from `load` (then cached).
    async fn read<T: Kind, E>(
        &self,
        key: T::Key,
        load: impl Future<Output = Result<T::Value, E>>,
    ) -> Result<T::Value, E> {
        match &self.tier {
            Tier::Off => load.await,
            Tier::Local(slots) => T::slot(slots).read(key, load).await,
            Tier::Shared(shared) => shared.read(T::NAME, &T::shared_key(key), load).await,
        }
    }

    /// An account, from the cache or from `load`.
    pub(crate) async fn account<E>(
        &self,
        id: AccountId,
        load: impl Future<Output = Result<Account, E>>,
    ) -> Result<Account, E> {
        self.read::<Accounts, E>(id, load).await
    }

    /// A customer, from the cache or from `load`.
    pub(crate) async fn customer<E>(
        &self,
        id: CustomerId,
        load: impl Future<Output = Result<Customer, E>>,
    ) -> Result<Customer, E> {
        self.read::<Customers, E>(id, load).await
    }

    /// The first page of an account's statement lines (no filter, default size), from the
    /// cache or from `load`.
    pub(crate) async fn recent_lines<E>(
        &self,
        id: AccountId,
        load: impl Future<Output = Result<LinesPage, E>>,
    ) -> Result<LinesPage, E> {
        self.read::<RecentLines, E>(id, load).await
    }

    /// Forgets accounts (their rows changed: status, limits, nickname or balance) and their
    /// recent lines.
    pub(crate) async fn forget_accounts(&self, ids: &[AccountId]) {
        self.forget(&[], ids).await;
    }

    /// Forgets a customer and `accounts`, those a KYC decision opened or closed.
    pub(crate) async fn forget_customer(&self, id: CustomerId, accounts: &[AccountId]) {
        self.forget(&[id], accounts).await;
    }

    /// Forgets what a ledger run changed: every customer account its results touched. When
    /// the run failed, whether it committed is unknown, so everything is forgotten.
    pub(crate) async fn forget_ledger_outcome(&self, outcome: &Result<LedgerOutcome, StoreError>) {
        match outcome {
            Ok(LedgerOutcome::Executed { results, .. }) => {
                let mut touched: Vec<AccountId> = results
                    .iter()
                    .flatten()
                    .flat_map(touched_accounts)
                    .collect();
                touched.sort_unstable();
                touched.dedup();
                self.forget_accounts(&touched).await;
            }
            // A replay or a refused key changed nothing now.
            Ok(LedgerOutcome::Replayed(_) | LedgerOutcome::KeyReused) => {}
            Err(_) => self.forget_all().await,
        }
    }

    async fn forget(&self, customers: &[CustomerId], accounts: &[AccountId]) {
        match &self.tier {
            Tier::Off => {}
            Tier::Local(slots) => {
                customers.iter().for_each(|id| slots.customers.forget(id));
                for id in accounts {
                    slots.accounts.forget(id);
                    slots.recent_lines.forget(id);
                }
            }
            Tier::Shared(shared) => {
                let customer_keys = customers.iter().map(|&id| Customers::shared_key(id));
                let account_keys = accounts
                    .iter()
                    .flat_map(|&id| [Accounts::shared_key(id), RecentLines::shared_key(id)]);
                let keys: Vec<String> = customer_keys.chain(account_keys).collect();
                shared.forget(&keys).await;
            }
        }
    }

    async fn forget_all(&self) {
        match &self.tier {
            Tier::Off => {}
            Tier::Local(slots) => {
                slots.accounts.forget_all();
                slots.customers.forget_all();
                slots.recent_lines.forget_all();
            }
            Tier::Shared(shared) => shared.forget_all().await,
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
