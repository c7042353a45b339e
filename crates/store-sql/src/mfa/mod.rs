//! Second factors: TOTP enrolments, updated under lock, and the login challenges waiting for
//! them.
//!
//! An enrolment's update locks the user's row first, whether the enrolment exists or not (the
//! first enrolment has no row of its own to lock): two logins presenting one code, on any
//! PostgreSQL node, are serialized, and the second sees the step the first one used. On
//! SQLite the single writer, taken at `BEGIN IMMEDIATE`, serializes them the same way.

mod rows;

use coffre_app::ports::{MfaChallengeRecord, MfaStore, StoreError, TotpRecord};
use coffre_domain::UserId;
use sqlx::types::Json;
use sqlx::{Database, Encode, FromRow, Type};
use uuid::Uuid;

use self::rows::{MfaChallengeRow, TotpRow, normalise_challenge, totp_to_write};
use crate::engine::{Engine, StoreContext};
use crate::sql::for_update;
use crate::store::SqlStore;

/// Reads a user's enrolment, in a transaction or not.
async fn fetch_totp<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    user_id: UserId,
) -> Result<Option<TotpRecord>, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    TotpRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let row: Option<TotpRow> = sqlx::query_as(
        "SELECT user_id, secret, confirmed_at, last_used_step, recovery_code_hashes, created_at \
         FROM user_totp WHERE user_id = $1",
    )
    .bind(user_id.0)
    .fetch_optional(E::conn(conn))
    .await
    .store_context::<E>("failed to read TOTP enrolment")?;
    Ok(row.map(TotpRecord::from))
}

impl<E: Engine> MfaStore for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q [u8]: Encode<'q, E::Db> + Type<E::Db>,
    Option<i64>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Json<&'q [String]>: Encode<'q, E::Db> + Type<E::Db>,
    (i32,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    TotpRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    MfaChallengeRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    async fn find_totp(&self, user_id: UserId) -> Result<Option<TotpRecord>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        fetch_totp::<E>(&mut conn, user_id).await
    }

    /// Locks the user's row (`NotFound` if there is none), hands their enrolment to `change`
    /// and writes what it returns: stored if a record, deleted if `None`. An error from
    /// `change` rolls the transaction back.
    async fn update_totp<Er, F>(&self, user_id: UserId, change: F) -> Result<Option<TotpRecord>, Er>
    where
        Er: From<StoreError> + Send + 'static,
        F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, Er> + Send + 'static,
    {
        let mut tx = self.engine.begin_write().await?;
        let user: Option<i32> =
            sqlx::query_scalar(for_update::<E>("SELECT 1 FROM users WHERE id = $1"))
                .bind(user_id.0)
                .fetch_optional(E::conn(&mut tx))
                .await
                .store_context::<E>("failed to lock the TOTP enrolment's user")?;
        if user.is_none() {
            return Err(Er::from(StoreError::NotFound));
        }
        let current = fetch_totp::<E>(&mut tx, user_id).await?;
        let next = totp_to_write(user_id, change(current)?)?;
        match &next {
            Some(record) => {
                sqlx::query(
                    "INSERT INTO user_totp (user_id, secret, confirmed_at, last_used_step, \
                     recovery_code_hashes, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
                     confirmed_at = excluded.confirmed_at, last_used_step = excluded.last_used_step, \
                     recovery_code_hashes = excluded.recovery_code_hashes, \
                     created_at = excluded.created_at",
                )
                .bind(record.user_id.0)
                .bind(record.secret.as_slice())
                .bind(E::optional_instant(record.confirmed_at)?)
                .bind(record.last_used_step)
                .bind(Json(record.recovery_code_hashes.as_slice()))
                .bind(E::instant(record.created_at)?)
                .execute(E::conn(&mut tx))
                .await
                .store_context::<E>("failed to write TOTP enrolment")?;
            }
            None => {
                sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
                    .bind(user_id.0)
                    .execute(E::conn(&mut tx))
                    .await
                    .store_context::<E>("failed to delete TOTP enrolment")?;
            }
        }
        tx.commit()
            .await
            .store_context::<E>("failed to commit TOTP update")?;
        Ok(next)
    }

    async fn insert_mfa_challenge(&self, challenge: &MfaChallengeRecord) -> Result<(), StoreError> {
        let challenge = normalise_challenge(challenge.clone());
        let mut conn = self.engine.acquire_write().await?;
        sqlx::query(
            "INSERT INTO mfa_challenges (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(challenge.token_hash.as_str())
        .bind(challenge.user_id.0)
        .bind(E::instant(challenge.expires_at)?)
        .execute(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to insert MFA challenge")?;
        Ok(())
    }

    /// A login challenge by the hash of its token, expired or not (the caller checks the
    /// expiry).
    async fn find_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallengeRecord>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let row: Option<MfaChallengeRow> = sqlx::query_as(
            "SELECT token_hash, user_id, expires_at FROM mfa_challenges WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read MFA challenge")?;
        Ok(row.map(MfaChallengeRecord::from))
    }

    /// Deletes a login challenge; true when it was there. Of two concurrent deletions, the
    /// second waits for the first's row lock (or the single writer) and then finds the row
    /// gone.
    async fn delete_mfa_challenge(&self, token_hash: &str) -> Result<bool, StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        let deleted = sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .execute(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to delete MFA challenge")?;
        Ok(E::rows_affected(&deleted) > 0)
    }
}
