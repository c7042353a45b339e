//! The ledger group's steps on PostgreSQL (the script that runs them is `store-sql`'s): key
//! claims that wait on the unique index for a key another node is claiming, row locks in the
//! fixed order (customer accounts by id, internal accounts by id), and set-based writes with
//! `unnest` arrays. `READ COMMITTED` is enough: everything read to decide is read under a lock.

mod idempotency;
mod load;
mod write;

use coffre_app::ports::{LedgerOutcome, StoreError};
use coffre_domain::ledger::LedgerState;
use coffre_store_sql::ledger::LedgerEngine;
use coffre_store_sql::ledger_group::{Member, Record};
use coffre_store_sql::ledger_plan::{LedgerDiff, Touched};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::PostgresEngine;

impl LedgerEngine for PostgresEngine {
    async fn claim_keys(
        conn: &mut PgConnection,
        members: &[Member],
        now: OffsetDateTime,
    ) -> Result<Vec<Option<LedgerOutcome>>, StoreError> {
        idempotency::claim_keys(conn, members, now).await
    }

    async fn lock_state(
        conn: &mut PgConnection,
        touched: Touched,
    ) -> Result<LedgerState, StoreError> {
        load::lock_state(conn, touched).await
    }

    async fn write_diff(
        conn: &mut PgConnection,
        before: &LedgerState,
        diff: &LedgerDiff,
    ) -> Result<(), StoreError> {
        write::write_diff(conn, before, diff).await
    }

    async fn store_replies(
        conn: &mut PgConnection,
        members: &[Member],
        records: &[Record],
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        idempotency::store_replies(conn, members, records).await
    }
}
