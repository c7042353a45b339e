//! What an engine supplies to the storage code written once for both: its pools and how a
//! transaction begins, how it stores an instant, and what its database's errors mean.
//!
//! Everything else (the SQL text, the control flow of a list, an update under lock, a purge)
//! is written once in this crate, generic over [`Engine`]. sqlx 0.9 accepts `$1`-style
//! placeholders on SQLite too, so one statement text serves both engines; a statement whose
//! SQL truly differs is an `Engine` method, implemented by each adapter.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;

use coffre_app::ports::StoreError;
use coffre_domain::events::EventRecord;
use sqlx::pool::PoolConnection;
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Transaction, Type};
use time::OffsetDateTime;
use uuid::Uuid;

/// One database engine, as the shared storage code needs it. Implemented by each adapter's
/// engine type, which holds its pools; [`SqlStore`](crate::store::SqlStore) wraps it and
/// implements the ports.
pub trait Engine: Clone + Debug + Send + Sync + Sized + 'static {
    /// The sqlx driver.
    type Db: Database<Arguments = Self::Arguments>;

    /// The driver's bound arguments, named here to state that a query can take them.
    type Arguments: IntoArguments<Self::Db> + Default;

    /// A connection inside a transaction, as an executor: `&mut` the driver's connection.
    /// (Named here, with its bound, because a bound on `&mut <Db as Database>::Connection`
    /// in a where-clause would have to be repeated on every generic impl.)
    type Conn<'c>: Executor<'c, Database = Self::Db>;

    /// How an instant is bound: PostgreSQL's `timestamptz`, SQLite's fixed-width UTC text.
    type Instant: for<'q> Encode<'q, Self::Db> + Type<Self::Db> + Send + Sync + 'static;

    /// How an instant that may be missing is bound (`NULL` when it is).
    type OptionalInstant: for<'q> Encode<'q, Self::Db> + Type<Self::Db> + Send + Sync + 'static;

    /// What a `SELECT` appends to lock the rows it reads until the transaction ends
    /// (`" FOR UPDATE"`); empty where the single writer already holds the whole database.
    const FOR_UPDATE: &'static str;

    /// What a `SELECT` appends to keep the rows it reads from changing until the transaction
    /// ends, while others may read them too (`" FOR SHARE"`); empty with a single writer.
    const FOR_SHARE: &'static str;

    /// What a `SELECT` appends to lock the rows it reads, passing over those another
    /// transaction holds (`" FOR UPDATE SKIP LOCKED"`); empty with a single writer.
    const SKIP_LOCKED: &'static str;

    /// How a list of strings is stored: PostgreSQL `text[]`, SQLite JSON text.
    type TextList: for<'q> Encode<'q, Self::Db>
        + for<'r> Decode<'r, Self::Db>
        + Type<Self::Db>
        + Send
        + Sync
        + Unpin
        + 'static;

    /// A list of strings as this engine stores it.
    fn text_list(items: Vec<String>) -> Self::TextList;

    /// The strings of a stored list.
    fn text_list_items(list: Self::TextList) -> Vec<String>;

    /// Connects to the database a URL names.
    fn connect(url: &str) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Applies the engine's migrations, then makes sure every internal account exists.
    fn migrate(&self) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Begins a transaction that will write: on SQLite it takes the write lock at once.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, StoreError>> + Send;

    /// Begins a read-only transaction that sees one snapshot (a list's count and page agree).
    fn begin_snapshot(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, StoreError>> + Send;

    /// A connection for one statement that writes on its own, outside a transaction (the
    /// writer, on SQLite).
    fn acquire_write(
        &self,
    ) -> impl Future<Output = Result<PoolConnection<Self::Db>, StoreError>> + Send;

    /// A connection for reads outside any write (a reader, on SQLite).
    fn acquire_read(
        &self,
    ) -> impl Future<Output = Result<PoolConnection<Self::Db>, StoreError>> + Send;

    /// The executor of a connection: `E::conn(&mut tx)` in a transaction.
    fn conn(conn: &mut <Self::Db as Database>::Connection) -> Self::Conn<'_>;

    /// Takes the key locks of all `keys` (see [`Engine::lock_key`]) in the one order every
    /// holder of several of them follows, so that two such transactions never wait for each
    /// other in a cycle.
    fn lock_keys(
        conn: &mut <Self::Db as Database>::Connection,
        namespace: i32,
        keys: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Serializes, until the transaction ends, the transactions that take the same
    /// `(namespace, key)`, whether or not a row for the key exists yet (an advisory lock on
    /// PostgreSQL; nothing to do with SQLite's single writer).
    fn lock_key(
        conn: &mut <Self::Db as Database>::Connection,
        namespace: i32,
        key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// An instant as this engine stores it.
    fn instant(at: OffsetDateTime) -> Result<Self::Instant, StoreError>;

    /// An instant that may be missing, as this engine stores it.
    fn optional_instant(at: Option<OffsetDateTime>) -> Result<Self::OptionalInstant, StoreError>;

    /// The current (highest) version of each of these event streams that has events.
    fn stream_versions(
        conn: &mut <Self::Db as Database>::Connection,
        streams: &BTreeSet<Uuid>,
    ) -> impl Future<Output = Result<BTreeMap<Uuid, i64>, StoreError>> + Send;

    /// Inserts chained event records, in order, with the engine's batch statement (PostgreSQL:
    /// one `unnest` of arrays; SQLite: multi-row `VALUES` under the bind limit).
    fn insert_events(
        conn: &mut <Self::Db as Database>::Connection,
        records: &[EventRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many rows a statement changed (each driver says it with its own inherent method).
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// What a failed step means, with `action` as its context ("failed to insert customer").
    fn classify(error: sqlx::Error, action: &'static str) -> StoreError;
}

/// `.store_context::<E>("failed to ...")` on a sqlx result: the engine classifies the error.
pub trait StoreContext<T> {
    /// Classifies the error, if any, as the engine's [`Engine::classify`] does.
    fn store_context<E: Engine>(self, action: &'static str) -> Result<T, StoreError>;
}

impl<T> StoreContext<T> for Result<T, sqlx::Error> {
    fn store_context<E: Engine>(self, action: &'static str) -> Result<T, StoreError> {
        self.map_err(|error| E::classify(error, action))
    }
}
