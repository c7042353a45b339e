//! How the read cache behaves.

use std::time::Duration;

/// How the read cache behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Off: every read goes to the database.
    pub enabled: bool,
    /// How long an entry lives: in process, the most another node's write stays unseen here.
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
