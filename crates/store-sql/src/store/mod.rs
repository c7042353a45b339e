//! The store both adapters are: [`SqlStore`] over an [`Engine`], implementing every port.

use crate::engine::Engine;

/// The storage adapter, over one engine: `PostgresStore` and `SqliteStore` are this type over
/// their engine. Each port is implemented here, once, generic over the engine (ADR 0021); what
/// an engine does differently is an [`Engine`] method.
#[derive(Debug, Clone)]
pub struct SqlStore<E> {
    pub(crate) engine: E,
}

impl<E: Engine> SqlStore<E> {
    /// Connects to the database a URL names.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(SqlStore {
            engine: E::connect(url).await?,
        })
    }

    /// Applies the migrations not applied yet, then makes sure every internal account exists.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.engine.migrate().await
    }
}
