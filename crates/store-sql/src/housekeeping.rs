//! Housekeeping: readiness, and the one purge of everything that expired, across the tables of
//! sessions, throttling, idempotency, OAuth and second factors.

use coffre_app::ports::{Housekeeping, PurgeCutoffs, StoreError};
use sqlx::QueryBuilder;

use crate::engine::{Engine, StoreContext};
use crate::store::SqlStore;

/// The purges whose only cutoff is `now` (`$1`), with what each failure says.
const EXPIRED_AT_NOW: [(&str, &str); 4] = [
    (
        "DELETE FROM idempotency_keys WHERE expires_at <= $1",
        "failed to purge idempotency records",
    ),
    (
        "DELETE FROM oauth_authorization_codes WHERE expires_at <= $1",
        "failed to purge authorization codes",
    ),
    (
        "DELETE FROM revoked_access_tokens WHERE expires_at <= $1",
        "failed to purge revoked access tokens",
    ),
    (
        "DELETE FROM mfa_challenges WHERE expires_at <= $1",
        "failed to purge MFA challenges",
    ),
];

impl<E: Engine> Housekeeping for SqlStore<E> {
    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        sqlx::query("SELECT 1")
            .execute(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to ping the database")?;
        Ok(())
    }

    /// Deletes ended sessions, stale throttle states, expired idempotency records, expired
    /// OAuth2 codes, refresh tokens and revocations, and expired login challenges in one
    /// transaction. Both engines compare instants in time order (SQLite's are fixed-width UTC
    /// text).
    async fn purge_expired(&self, cutoffs: PurgeCutoffs) -> Result<u64, StoreError> {
        let mut tx = self.engine.begin_write().await?;
        let mut purged = 0;
        for (statement, failure) in EXPIRED_AT_NOW {
            let deleted = sqlx::query(statement)
                .bind(E::instant(cutoffs.now)?)
                .execute(E::conn(&mut tx))
                .await
                .store_context::<E>(failure)?;
            purged += E::rows_affected(&deleted);
        }
        let sessions =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(E::instant(cutoffs.now)?)
                .bind(E::instant(cutoffs.idle_since)?)
                .execute(E::conn(&mut tx))
                .await
                .store_context::<E>("failed to purge sessions")?;
        let throttles = sqlx::query(
            "DELETE FROM login_throttle WHERE window_started_at < $1 \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(E::instant(cutoffs.window_started)?)
        .bind(E::instant(cutoffs.now)?)
        .execute(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to purge login throttles")?;
        // A refresh token being rotated right now is passed over, not waited for: the next
        // purge takes it.
        let mut refresh_tokens = QueryBuilder::<E::Db>::new(
            "DELETE FROM oauth_refresh_tokens WHERE token_hash IN \
             (SELECT token_hash FROM oauth_refresh_tokens WHERE expires_at <= ",
        );
        refresh_tokens
            .push_bind(E::instant(cutoffs.now)?)
            .push(E::SKIP_LOCKED)
            .push(")");
        let refresh_tokens = refresh_tokens
            .build()
            .execute(E::conn(&mut tx))
            .await
            .store_context::<E>("failed to purge refresh tokens")?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit purge")?;
        Ok(purged
            + E::rows_affected(&sessions)
            + E::rows_affected(&throttles)
            + E::rows_affected(&refresh_tokens))
    }
}
