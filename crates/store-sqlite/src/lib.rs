//! Coffre's SQLite storage adapter: the embedded default, one file in the data directory.
//!
//! SQLite allows one writer at a time, so the store keeps two pools: a write pool of exactly
//! one connection, on which every write transaction starts with `BEGIN IMMEDIATE` (it takes the
//! write lock at once, so two transactions never both read and then both fail to upgrade), and a
//! read pool of several `query_only` connections, which WAL mode lets read while the writer
//! writes. The single writer is also what makes *update under lock* correct here: the rows a
//! closure sees cannot change before its transaction commits.

#[macro_use]
mod columns;

mod error;
mod events;
mod files;
mod instants;
mod ledger;
mod ledger_write;
mod multi_row;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use coffre_app::ports::StoreError;
use coffre_domain::events::EventRecord;
use coffre_domain::ledger::InternalAccount;
use coffre_store_sql::engine::Engine;
use coffre_store_sql::store::SqlStore;
use error::StoreContext;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

pub use files::create_private_directory;

/// How long a statement waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection (writes queue for the single writer).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Readers: WAL lets them run beside the writer; a few are enough for an embedded bank.
const READ_CONNECTIONS: u32 = 4;

/// The SQLite implementation of every storage port ([`Storage`](coffre_app::ports::Storage)).
pub type SqliteStore = SqlStore<SqliteEngine>;

/// SQLite as the shared storage code needs it: a single writer and a few readers.
#[derive(Debug, Clone)]
pub struct SqliteEngine {
    /// Exactly one connection: every write transaction goes through it.
    write: SqlitePool,
    /// Read-only (`query_only`) connections for reads and list snapshots.
    read: SqlitePool,
}

/// The options of the database file a `sqlite://PATH` URL names, after creating it (and its
/// directory) private to Coffre's user.
fn file_options(url: &str) -> anyhow::Result<SqliteConnectOptions> {
    // Each pool would get its own, separate in-memory database.
    anyhow::ensure!(
        !url.contains(":memory:") && !url.contains("mode=memory"),
        "the SQLite database must be a file (sqlite://PATH), not in memory"
    );
    let options =
        SqliteConnectOptions::from_str(url).context("failed to parse the SQLite database URL")?;
    files::prepare_database_file(options.get_filename())?;
    Ok(options)
}

impl Engine for SqliteEngine {
    type Db = Sqlite;
    type Conn<'c> = &'c mut SqliteConnection;
    type Arguments = SqliteArguments;
    type Instant = String;
    type OptionalInstant = Option<String>;

    const FOR_UPDATE: &'static str = "";
    const FOR_SHARE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";

    type TextList = Json<Vec<String>>;

    fn text_list(items: Vec<String>) -> Json<Vec<String>> {
        Json(items)
    }

    fn text_list_items(list: Json<Vec<String>>) -> Vec<String> {
        list.0
    }

    /// Opens (creating it and its directory if missing) the database named by a `sqlite://PATH`
    /// URL, in WAL mode with `synchronous=FULL`: a committed transaction survives a power cut.
    async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = file_options(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full);
        // The writer connects first: it creates the file and switches it to WAL, which is a
        // property of the file that the readers then share.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone().journal_mode(SqliteJournalMode::Wal))
            .await
            .context("failed to open the SQLite database for writing")?;
        // `query_only` rather than a read-only open: a read-only connection cannot create the
        // WAL index files if they are missing, `query_only` just refuses every write.
        let read = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .context("failed to open the SQLite database for reading")?;
        Ok(SqliteEngine { write, read })
    }

    /// Applies the migrations this adapter ships (`migrations/`) that are not applied yet, then
    /// makes sure every internal account the domain knows has its row.
    async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.write)
            .await
            .context("failed to apply the SQLite migrations")?;
        seed_internal_accounts(&self.write).await
    }

    /// `BEGIN IMMEDIATE` takes the write lock at once, so two transactions never both read and
    /// then both fail to upgrade.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .store_context("failed to begin a transaction")
    }

    /// A read transaction on a reader: WAL gives it one snapshot for its whole length.
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.read
            .begin()
            .await
            .store_context("failed to begin a snapshot")
    }

    async fn acquire_write(&self) -> Result<PoolConnection<Sqlite>, StoreError> {
        self.write
            .acquire()
            .await
            .store_context("failed to acquire the writer")
    }

    async fn acquire_read(&self) -> Result<PoolConnection<Sqlite>, StoreError> {
        self.read
            .acquire()
            .await
            .store_context("failed to acquire a connection")
    }

    fn conn(conn: &mut SqliteConnection) -> &mut SqliteConnection {
        conn
    }

    /// The single writer already serializes every write transaction.
    async fn lock_keys(_: &mut SqliteConnection, _: i32, _: &[String]) -> Result<(), StoreError> {
        Ok(())
    }

    /// The single writer already serializes every write transaction.
    async fn lock_key(_: &mut SqliteConnection, _: i32, _: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn instant(at: OffsetDateTime) -> Result<String, StoreError> {
        instants::instant_text(at)
    }

    fn optional_instant(at: Option<OffsetDateTime>) -> Result<Option<String>, StoreError> {
        instants::optional_instant_text(at)
    }

    async fn stream_versions(
        conn: &mut SqliteConnection,
        streams: &BTreeSet<Uuid>,
    ) -> Result<BTreeMap<Uuid, i64>, StoreError> {
        events::stream_versions(conn, streams).await
    }

    async fn insert_events(
        conn: &mut SqliteConnection,
        records: &[EventRecord],
    ) -> Result<(), StoreError> {
        events::insert_all(conn, records).await
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn classify(error: sqlx::Error, action: &'static str) -> StoreError {
        error::classify(error, action)
    }
}

/// Inserts the missing internal accounts (balance 0), from the domain's list: a currency
/// added to the domain gets its accounts at the next start.
async fn seed_internal_accounts(write: &SqlitePool) -> anyhow::Result<()> {
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .context("failed to begin seeding internal accounts")?;
    for account in InternalAccount::all() {
        sqlx::query(
            "INSERT OR IGNORE INTO internal_accounts (id, kind, currency, balance_minor) \
                 VALUES (?, ?, ?, 0)",
        )
        .bind(account.id())
        .bind(account.kind.as_str())
        .bind(account.currency.code())
        .execute(&mut *tx)
        .await
        .context("failed to seed an internal account")?;
    }
    tx.commit()
        .await
        .context("failed to commit the internal accounts")
}
