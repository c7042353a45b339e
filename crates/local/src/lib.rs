//! Coffre's in-process adapters: the implementations of ports that need no server of their
//! own. The use cases (`coffre-app`) name only the ports; the binary picks these.
//!
//! - [`Argon2Hasher`]: the [`PasswordHasher`](coffre_app::ports::PasswordHasher), argon2id on
//!   tokio's blocking pool, bounded;
//! - [`SystemClock`]: the [`Clock`](coffre_app::ports::Clock);
//! - [`MokaEntries`]: the read cache's in-process entries
//!   ([`MakeCacheEntries`](coffre_app::ports::MakeCacheEntries)), in moka;
//! - [`StoreRevocations`]: the [`RevocationList`](coffre_app::ports::RevocationList) kept in the
//!   database's own table, for when nodes share no Redis.

mod cache_entries;
mod clock;
mod password;
mod revocations;

pub use cache_entries::MokaEntries;
pub use clock::SystemClock;
pub use password::Argon2Hasher;
pub use revocations::StoreRevocations;
