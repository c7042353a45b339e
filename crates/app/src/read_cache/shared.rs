//! The shared tier: entries in a [`SharedCache`] (Redis) that every node reads and forgets, so
//! that a write through one node is seen by the next read on any node.
//!
//! An unreachable backend never fails a request: the read goes to the database. But a forget
//! that did not reach the backend leaves an old entry behind, so after any error this node
//! reads from the database only, for twice the time to live. That covers the entry's life
//! (the TTL) and the latest a stale fill can land (half the TTL after its ticket, which
//! predates the write): the node's own reads never see its writes undone. Other nodes may, for
//! as long as that entry lives: ADR 0015 states the bound.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::counting::count;
use crate::outage::Outage;
use crate::ports::{Fill, Lookup, SharedCache};

/// The shared tier of the read cache.
#[derive(Debug)]
pub(super) struct SharedTier {
    backend: std::sync::Arc<dyn SharedCache>,
    ttl: Duration,
    /// After an error, this node leaves the backend alone for a while.
    outage: Outage,
}

impl SharedTier {
    /// Entries kept in `backend` for `ttl`.
    pub(super) fn new(backend: std::sync::Arc<dyn SharedCache>, ttl: Duration) -> Self {
        SharedTier {
            backend,
            ttl,
            outage: Outage::default(),
        }
    }

    /// The value under `key` (a kind named `kind`), or what `load` reads (then stored).
    pub(super) async fn read<V, E>(
        &self,
        kind: &'static str,
        key: &str,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E>
    where
        V: Serialize + DeserializeOwned,
    {
        if self.outage.ongoing() {
            count(kind, "bypass");
            return load.await;
        }
        let found = self.backend.lookup(key).await;
        if found.is_ok() && self.outage.answered() {
            tracing::info!("the shared cache answers again");
        }
        let ticket = match found {
            Ok(Lookup::Hit(bytes)) => match serde_json::from_slice(&bytes) {
                Ok(value) => {
                    count(kind, "hit");
                    return Ok(value);
                }
                // Written by a build with another form of the value: the database decides,
                // and the entry is left to expire.
                Err(error) => {
                    tracing::warn!(kind, %error, "a shared cache entry could not be decoded");
                    count(kind, "miss");
                    return load.await;
                }
            },
            Ok(Lookup::Miss(ticket)) => ticket,
            Err(error) => {
                self.failed("lookup", &error);
                count(kind, "bypass");
                return load.await;
            }
        };
        count(kind, "miss");
        let value = load.await?;
        match serde_json::to_vec(&value) {
            Ok(bytes) => {
                let fill = Fill {
                    key,
                    ticket: &ticket,
                    value: &bytes,
                    ttl: self.ttl,
                    max_ticket_age: self.ttl / 2,
                };
                if let Err(error) = self.backend.fill(fill).await {
                    self.failed("fill", &error);
                }
            }
            Err(error) => {
                tracing::warn!(kind, %error, "a value could not be encoded for the cache")
            }
        }
        Ok(value)
    }

    /// Forgets `keys` everywhere (an error leaves this node on the database for a while).
    pub(super) async fn forget(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        if let Err(error) = self.backend.forget(keys).await {
            self.failed("forget", &error);
        }
    }

    /// Forgets every key everywhere.
    pub(super) async fn forget_all(&self) {
        if let Err(error) = self.backend.forget_all().await {
            self.failed("forget_all", &error);
        }
    }

    /// Records an error of the backend and reads from the database for twice the TTL.
    fn failed(&self, operation: &'static str, error: &anyhow::Error) {
        metrics::counter!("coffre_cache_shared_errors_total", "operation" => operation)
            .increment(1);
        let bypass = self.ttl * 2;
        if self.outage.failed(bypass) {
            tracing::warn!(
                operation,
                error = format!("{error:#}"),
                bypass_ms = bypass.as_millis(),
                "the shared cache failed: this node reads from the database for a while"
            );
        }
    }
}
