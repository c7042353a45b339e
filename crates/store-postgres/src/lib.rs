//! Coffre's PostgreSQL storage adapter: the production store.
//!
//! Correctness never depends on there being a single Coffre node: *update under lock* methods
//! take row locks (`SELECT ... FOR UPDATE`, a customer before their accounts, accounts in id
//! order, so that two transactions never wait for each other in a cycle), uniqueness rules are
//! constraints, and a list's count and page are read from one `REPEATABLE READ` snapshot. Any
//! number of nodes may share the database.

#[macro_use]
mod columns;

mod accounts;
mod audit;
mod customer_row;
mod customers;
mod error;
mod events;
mod housekeeping;
mod ledger;
mod mfa;
mod oauth;
mod sessions;
mod throttle;

use std::time::Duration;

use anyhow::Context;
use coffre_domain::ledger::InternalAccount;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Connections per node: enough for two cores' worth of concurrent requests while leaving the
/// server's `max_connections` to the other nodes.
const MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a pooled connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL implementation of every storage port ([`Storage`](coffre_app::ports::Storage)):
/// each port is implemented in the module of its aggregate (`customers`, `accounts`,
/// `sessions`, `throttle`, `housekeeping`, `ledger`, `audit`, `oauth`, `mfa`).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        // The URL may hold a password: it is never put into an error message.
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .context("failed to connect to PostgreSQL")?;
        Ok(PostgresStore { pool })
    }

    /// Applies the migrations this adapter ships (`migrations/`) that are not applied yet,
    /// then makes sure every internal account exists. Concurrent callers (several nodes
    /// starting at once) are serialized by sqlx's advisory lock, and the seeding is idempotent.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .context("failed to apply the PostgreSQL migrations")?;
        self.seed_internal_accounts().await
    }

    /// Inserts the internal accounts that do not exist yet, at a zero balance: the list is the
    /// domain's, so a new currency or kind appears at the next start.
    async fn seed_internal_accounts(&self) -> anyhow::Result<()> {
        for account in InternalAccount::all() {
            sqlx::query(
                "INSERT INTO internal_accounts (id, kind, currency, balance_minor) \
                 VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
            )
            .bind(account.id())
            .bind(account.kind.as_str())
            .bind(account.currency.code())
            .execute(&self.pool)
            .await
            .with_context(|| format!("failed to seed the internal account {account}"))?;
        }
        Ok(())
    }
}
