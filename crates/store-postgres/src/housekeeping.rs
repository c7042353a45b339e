//! Housekeeping: readiness, and the one purge of everything that expired, across the
//! tables of sessions, throttling, idempotency, OAuth and second factors.

use coffre_app::ports::{Housekeeping, PurgeCutoffs, StoreError};
use coffre_store_sql::writes::stored_instant;

use crate::error::StoreContext;
use crate::{PostgresEngine, mfa, oauth};

impl Housekeeping for PostgresEngine {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .store_context("failed to ping the database")?;
        Ok(())
    }

    /// Deletes ended sessions, stale throttle states, expired idempotency records, expired
    /// OAuth2 codes, refresh tokens and revocations, and expired login challenges in one
    /// transaction.
    async fn purge_expired(&self, cutoffs: PurgeCutoffs) -> Result<u64, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .store_context("failed to begin purge")?;
        let sessions =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(stored_instant(cutoffs.now))
                .bind(stored_instant(cutoffs.idle_since))
                .execute(&mut *tx)
                .await
                .store_context("failed to purge sessions")?;
        let throttles = sqlx::query(
            "DELETE FROM login_throttle WHERE window_started_at < $1 \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(stored_instant(cutoffs.window_started))
        .bind(stored_instant(cutoffs.now))
        .execute(&mut *tx)
        .await
        .store_context("failed to purge login throttles")?;
        let idempotency = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(stored_instant(cutoffs.now))
            .execute(&mut *tx)
            .await
            .store_context("failed to purge idempotency records")?;
        let oauth = oauth::purge_expired(&mut tx, cutoffs.now).await?;
        let challenges = mfa::purge_expired(&mut tx, cutoffs.now).await?;
        tx.commit().await.store_context("failed to commit purge")?;
        Ok(sessions.rows_affected()
            + throttles.rows_affected()
            + idempotency.rows_affected()
            + oauth
            + challenges)
    }
}
