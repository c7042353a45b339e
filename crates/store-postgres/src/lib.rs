//! Coffre's PostgreSQL storage adapter: the production store.
//!
//! Correctness never depends on there being a single Coffre node: *update under lock* methods
//! take row locks (`SELECT ... FOR UPDATE`, a customer before their accounts, accounts in id
//! order, so that two transactions never wait for each other in a cycle), uniqueness rules are
//! constraints, and a list's count and page are read from one `REPEATABLE READ` snapshot. Any
//! number of nodes may share the database.

#[macro_use]
mod columns;

mod error;
mod events;
mod ledger;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Context;
use coffre_app::ports::StoreError;
use coffre_domain::events::EventRecord;
use coffre_domain::ledger::InternalAccount;
use coffre_store_sql::engine::Engine;
use coffre_store_sql::store::SqlStore;
use coffre_store_sql::writes::stored_instant;
use error::StoreContext;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgQueryResult};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

/// Connections per node: enough for two cores' worth of concurrent requests while leaving the
/// server's `max_connections` to the other nodes.
const MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a pooled connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL implementation of every storage port ([`Storage`](coffre_app::ports::Storage)).
pub type PostgresStore = SqlStore<PostgresEngine>;

/// PostgreSQL as the shared storage code needs it: one pool, shared by any number of nodes.
#[derive(Debug, Clone)]
pub struct PostgresEngine {
    pool: PgPool,
}

impl Engine for PostgresEngine {
    type Db = Postgres;
    type Conn<'c> = &'c mut PgConnection;
    type Arguments = PgArguments;
    type Instant = OffsetDateTime;
    type OptionalInstant = Option<OffsetDateTime>;

    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const FOR_SHARE: &'static str = " FOR SHARE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    type TextList = Vec<String>;

    fn text_list(items: Vec<String>) -> Vec<String> {
        items
    }

    fn text_list_items(list: Vec<String>) -> Vec<String> {
        list
    }

    /// Connects to the database named by a `postgres://` URL.
    async fn connect(url: &str) -> anyhow::Result<Self> {
        // The URL may hold a password: it is never put into an error message.
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .context("failed to connect to PostgreSQL")?;
        Ok(PostgresEngine { pool })
    }

    /// Applies the migrations this adapter ships (`migrations/`) that are not applied yet,
    /// then makes sure every internal account exists. Concurrent callers (several nodes
    /// starting at once) are serialized by sqlx's advisory lock, and the seeding is idempotent.
    async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .context("failed to apply the PostgreSQL migrations")?;
        seed_internal_accounts(&self.pool).await
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin()
            .await
            .store_context("failed to begin a transaction")
    }

    /// `REPEATABLE READ`: every statement of the transaction reads the snapshot its first
    /// statement saw.
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .store_context("failed to begin a snapshot")
    }

    async fn acquire_write(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        self.acquire_read().await
    }

    async fn acquire_read(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        self.pool
            .acquire()
            .await
            .store_context("failed to acquire a connection")
    }

    fn conn(conn: &mut PgConnection) -> &mut PgConnection {
        conn
    }

    /// The advisory locks of the keys' hashes, in hash order (keys whose hashes collide
    /// share a lock, taken once).
    async fn lock_keys(
        conn: &mut PgConnection,
        namespace: i32,
        keys: &[String],
    ) -> Result<(), StoreError> {
        let hashes: Vec<i32> = sqlx::query_scalar(
            "SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY h",
        )
        .bind(keys)
        .fetch_all(&mut *conn)
        .await
        .store_context("failed to hash advisory lock keys")?;
        for hash in hashes {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(namespace)
                .bind(hash)
                .execute(&mut *conn)
                .await
                .store_context("failed to take an advisory lock")?;
        }
        Ok(())
    }

    /// A transaction-scoped advisory lock on `(namespace, hashtext(key))`.
    async fn lock_key(
        conn: &mut PgConnection,
        namespace: i32,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(namespace)
            .bind(key)
            .execute(conn)
            .await
            .store_context("failed to take an advisory lock")?;
        Ok(())
    }

    /// `timestamptz` keeps microseconds: the instant is cut to them, as it will read back.
    fn instant(at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
        Ok(stored_instant(at))
    }

    fn optional_instant(at: Option<OffsetDateTime>) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(at.map(stored_instant))
    }

    async fn stream_versions(
        conn: &mut PgConnection,
        streams: &BTreeSet<Uuid>,
    ) -> Result<BTreeMap<Uuid, i64>, StoreError> {
        events::stream_versions(conn, streams).await
    }

    async fn insert_events(
        conn: &mut PgConnection,
        records: &[EventRecord],
    ) -> Result<(), StoreError> {
        events::insert_all(conn, records).await
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn classify(error: sqlx::Error, action: &'static str) -> StoreError {
        error::classify(error, action)
    }
}

/// Inserts the internal accounts that do not exist yet, at a zero balance: the list is the
/// domain's, so a new currency or kind appears at the next start.
async fn seed_internal_accounts(pool: &PgPool) -> anyhow::Result<()> {
    for account in InternalAccount::all() {
        sqlx::query(
            "INSERT INTO internal_accounts (id, kind, currency, balance_minor) \
                 VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
        )
        .bind(account.id())
        .bind(account.kind.as_str())
        .bind(account.currency.code())
        .execute(pool)
        .await
        .with_context(|| format!("failed to seed the internal account {account}"))?;
    }
    Ok(())
}
