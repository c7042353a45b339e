//! The in-process tier: entries of each kind of value (kept by a
//! [`CacheEntries`](crate::ports::CacheEntries) adapter), with the generations that keep stale
//! fills out.
//!
//! A read takes a *ticket* (its key's generation) before it loads, and may fill the cache only
//! if no write forgot that key since; the check and the fill happen under the same lock as the
//! write's "forget", so one of them always comes first.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::config::CacheConfig;
use crate::ports::{CacheEntries, MakeCacheEntries};

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
pub(super) struct Slot<K, V> {
    name: &'static str,
    entries: Box<dyn CacheEntries<K, V>>,
    generations: Vec<Mutex<u64>>,
    hasher: RandomState,
}

impl<K, V> Slot<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// An empty slot whose entries `make` provides; `name` labels its metrics.
    pub(super) fn new(
        name: &'static str,
        config: CacheConfig,
        make: &impl MakeCacheEntries,
    ) -> Self {
        Slot {
            name,
            entries: make.make(config.capacity, config.ttl),
            generations: (0..SHARDS).map(|_| Mutex::new(0)).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &K) -> usize {
        // The modulo keeps the value below SHARDS, so the conversion cannot fail.
        usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0)
    }

    fn generation(&self, shard: usize) -> MutexGuard<'_, u64> {
        // A panic while holding the lock leaves a plain counter behind: still usable.
        self.generations[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, key: &K) -> Option<V> {
        let found = self.entries.get(key);
        super::counting::count(self.name, if found.is_some() { "hit" } else { "miss" });
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

    /// Drops `key`'s entry and turns away the fills in flight for it.
    pub(super) fn forget(&self, key: &K) {
        let mut generation = self.generation(self.shard(key));
        *generation = generation.wrapping_add(1);
        self.entries.invalidate(key);
    }

    /// Drops every entry and turns away every fill in flight.
    pub(super) fn forget_all(&self) {
        for shard in 0..SHARDS {
            let mut generation = self.generation(shard);
            *generation = generation.wrapping_add(1);
        }
        self.entries.invalidate_all();
    }

    /// The cached value, or what `load` reads (then cached).
    pub(super) async fn read<E>(
        &self,
        key: K,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let ticket = self.ticket(&key);
        let value = load.await?;
        self.fill(key, ticket, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Entries that never expire nor evict: the generations are what these tests are about.
    struct Unbounded<K, V>(Mutex<HashMap<K, V>>);

    impl<K, V> CacheEntries<K, V> for Unbounded<K, V>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        fn get(&self, key: &K) -> Option<V> {
            self.0.lock().ok()?.get(key).cloned()
        }

        fn insert(&self, key: K, value: V) {
            if let Ok(mut map) = self.0.lock() {
                map.insert(key, value);
            }
        }

        fn invalidate(&self, key: &K) {
            if let Ok(mut map) = self.0.lock() {
                map.remove(key);
            }
        }

        fn invalidate_all(&self) {
            if let Ok(mut map) = self.0.lock() {
                map.clear();
            }
        }
    }

    struct MakeUnbounded;

    impl MakeCacheEntries for MakeUnbounded {
        fn make<K, V>(
            &self,
            _capacity: u64,
            _ttl: std::time::Duration,
        ) -> Box<dyn CacheEntries<K, V>>
        where
            K: Hash + Eq + Clone + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Box::new(Unbounded(Mutex::new(HashMap::new())))
        }
    }

    fn slot() -> Slot<u32, &'static str> {
        Slot::new("test", CacheConfig::default(), &MakeUnbounded)
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
