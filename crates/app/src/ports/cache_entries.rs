//! Where the read cache's in-process tier keeps its values: a bounded map whose entries expire.
//!
//! Only the storage is a port. The generations that keep a stale fill out stay in the read
//! cache (`read_cache::local`), because they are what makes the cache correct, whatever keeps
//! the entries.

use std::hash::Hash;
use std::time::Duration;

/// One kind of value kept in process, bounded in count and in age.
pub trait CacheEntries<K, V>: Send + Sync + 'static {
    /// The value under `key`, if it is there and not expired.
    fn get(&self, key: &K) -> Option<V>;

    /// Keeps `value` under `key`, evicting others if the bound is reached.
    fn insert(&self, key: K, value: V);

    /// Drops `key`'s entry.
    fn invalidate(&self, key: &K);

    /// Drops every entry.
    fn invalidate_all(&self);
}

/// Makes the entries of each kind of value the read cache keeps in process.
pub trait MakeCacheEntries {
    /// Entries of one kind: at most `capacity` of them, each dropped `ttl` after it was kept.
    fn make<K, V>(&self, capacity: u64, ttl: Duration) -> Box<dyn CacheEntries<K, V>>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static;
}
