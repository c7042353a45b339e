//! The read cache's in-process entries, in moka: bounded in count, each entry expiring a fixed
//! time after it was kept.

use std::hash::Hash;
use std::time::Duration;

use coffre_app::ports::{CacheEntries, MakeCacheEntries};

/// Makes moka caches for the read cache's in-process tier.
#[derive(Debug, Clone, Copy, Default)]
pub struct MokaEntries;

/// One moka cache.
struct Moka<K, V>(moka::sync::Cache<K, V>);

impl MakeCacheEntries for MokaEntries {
    fn make<K, V>(&self, capacity: u64, ttl: Duration) -> Box<dyn CacheEntries<K, V>>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        Box::new(Moka(
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
        ))
    }
}

impl<K, V> CacheEntries<K, V> for Moka<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn get(&self, key: &K) -> Option<V> {
        self.0.get(key)
    }

    fn insert(&self, key: K, value: V) {
        self.0.insert(key, value);
    }

    fn invalidate(&self, key: &K) {
        self.0.invalidate(key);
    }

    fn invalidate_all(&self) {
        self.0.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_kept_dropped_and_expire() {
        let entries = MokaEntries.make::<u32, &str>(10, Duration::from_millis(50));
        entries.insert(1, "one");
        entries.insert(2, "two");
        assert_eq!(entries.get(&1), Some("one"));
        entries.invalidate(&1);
        assert_eq!(entries.get(&1), None);
        assert_eq!(entries.get(&2), Some("two"));
        entries.invalidate_all();
        assert_eq!(entries.get(&2), None);
        entries.insert(3, "three");
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(entries.get(&3), None, "an entry outlived its time to live");
    }
}
