//! Housekeeping: readiness, and the one purge of everything that expired, across the
//! tables of sessions, throttling, idempotency, OAuth and second factors.

use coffre_app::ports::{Housekeeping, PurgeCutoffs, StoreError};

use crate::error::StoreContext;
use crate::instants::instant_text;
use crate::{SqliteEngine, mfa, oauth};

impl Housekeeping for SqliteEngine {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .store_context("failed to ping the database")?;
        Ok(())
    }

    /// Deletes ended sessions, stale throttle states, expired idempotency records, expired
    /// OAuth2 codes, refresh tokens and revocations, and expired login challenges in one
    /// transaction. Instants are stored as fixed-width UTC text, so comparing the text compares
    /// the times.
    async fn purge_expired(&self, cutoffs: PurgeCutoffs) -> Result<u64, StoreError> {
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .store_context("failed to begin purge")?;
        let sessions =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?")
                .bind(instant_text(cutoffs.now)?)
                .bind(instant_text(cutoffs.idle_since)?)
                .execute(&mut *tx)
                .await
                .store_context("failed to purge sessions")?;
        let throttles = sqlx::query(
            "DELETE FROM login_throttle WHERE window_started_at < ? \
             AND (locked_until IS NULL OR locked_until <= ?)",
        )
        .bind(instant_text(cutoffs.window_started)?)
        .bind(instant_text(cutoffs.now)?)
        .execute(&mut *tx)
        .await
        .store_context("failed to purge login throttles")?;
        let idempotency = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= ?")
            .bind(instant_text(cutoffs.now)?)
            .execute(&mut *tx)
            .await
            .store_context("failed to purge idempotency keys")?;
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
