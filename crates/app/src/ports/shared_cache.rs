//! A read cache every node shares (Redis), for the entries of [`crate::read_cache`]. Held as a
//! trait object, because the backend is chosen at start.
//!
//! The backend keeps the same guard as the in-process cache, across nodes: a *generation* per
//! key and one *epoch* for all keys. A read that misses gets a [`FillTicket`] (the generation
//! and epoch it saw, and when), loads from the database, then presents the ticket with its
//! [`Fill`]; the backend stores the value only if no write forgot the key (or everything) since,
//! and only if the ticket is younger than [`Fill::max_ticket_age`]. Each step is atomic in the
//! backend, so a fill and a forget are always ordered one way or the other.

use std::fmt::Debug;
use std::time::Duration;

use crate::ports::BoxFuture;

/// What a read found under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The stored value, as it was filled.
    Hit(Vec<u8>),
    /// Nothing stored: load the value, then fill with this ticket.
    Miss(FillTicket),
}

/// What a backend needs to recognise a stale fill: opaque to the use cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillTicket(pub String);

/// A value to store, loaded after its ticket was taken.
#[derive(Debug, Clone, Copy)]
pub struct Fill<'a> {
    /// The key.
    pub key: &'a str,
    /// The ticket the lookup handed out.
    pub ticket: &'a FillTicket,
    /// The serialised value.
    pub value: &'a [u8],
    /// How long the entry lives.
    pub ttl: Duration,
    /// Refused when the ticket is older than this (by the backend's clock): a load that slow
    /// may have read a row some write changed, and whose forget did not reach the backend.
    pub max_ticket_age: Duration,
}

/// The shared entries, with the generations that keep stale fills out.
pub trait SharedCache: Debug + Send + Sync + 'static {
    /// The value under `key`, or a ticket to fill it.
    fn lookup<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<Lookup>>;

    /// Stores a value, unless its key was forgotten since the ticket was taken or the ticket
    /// is too old. Refused fills are not errors.
    fn fill<'a>(&'a self, fill: Fill<'a>) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Forgets `keys`: drops their entries, and refuses every fill whose ticket came before.
    fn forget<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Forgets every key.
    fn forget_all(&self) -> BoxFuture<'_, anyhow::Result<()>>;
}
