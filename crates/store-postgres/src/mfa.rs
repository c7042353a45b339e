//! Second factors: TOTP enrolments, updated under lock, and the login challenges waiting for
//! them.
//!
//! An enrolment's update locks the user's row first, whether the enrolment exists or not (the
//! first enrolment has no row of its own to lock): two logins presenting one code, on any
//! nodes, are serialized, and the second sees the step the first one used.

use coffre_app::ports::{MfaChallengeRecord, MfaStore, StoreError, TotpRecord};
use coffre_domain::UserId;
use coffre_store_sql::mfa::{MfaChallengeRow, TotpRow, normalise_challenge, totp_to_write};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use crate::PostgresEngine;
use crate::error::StoreContext;

/// The `user_totp` columns a [`TotpRow`] reads, as a literal for `concat!`.
macro_rules! totp_columns {
    () => {
        "user_id, secret, confirmed_at, last_used_step, recovery_code_hashes, created_at"
    };
}

/// Reads a user's enrolment.
pub(crate) async fn find_totp(
    pool: &PgPool,
    user_id: UserId,
) -> Result<Option<TotpRecord>, StoreError> {
    let row: Option<TotpRow> = sqlx::query_as(concat!(
        "SELECT ",
        totp_columns!(),
        " FROM user_totp WHERE user_id = $1"
    ))
    .bind(user_id.0)
    .fetch_optional(pool)
    .await
    .store_context("failed to read TOTP enrolment")?;
    Ok(row.map(TotpRecord::from))
}

/// Locks the user's row (`NotFound` if there is none), hands their enrolment to `change` and
/// writes what it returns: stored if a record, deleted if `None`. An error from `change` rolls
/// the transaction back.
pub(crate) async fn update_totp<E, F>(
    pool: &PgPool,
    user_id: UserId,
    change: F,
) -> Result<Option<TotpRecord>, E>
where
    E: From<StoreError>,
    F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, E>,
{
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin TOTP update")?;
    let locked: Option<i32> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id.0)
        .fetch_optional(&mut *tx)
        .await
        .store_context("failed to lock the TOTP enrolment's user")?;
    if locked.is_none() {
        return Err(E::from(StoreError::NotFound));
    }
    let row: Option<TotpRow> = sqlx::query_as(concat!(
        "SELECT ",
        totp_columns!(),
        " FROM user_totp WHERE user_id = $1"
    ))
    .bind(user_id.0)
    .fetch_optional(&mut *tx)
    .await
    .store_context("failed to read TOTP enrolment")?;
    let current = row.map(TotpRecord::from);
    let next = totp_to_write(user_id, change(current)?)?;
    match &next {
        Some(record) => write_totp(&mut tx, record).await?,
        None => {
            sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
                .bind(user_id.0)
                .execute(&mut *tx)
                .await
                .store_context("failed to delete TOTP enrolment")?;
        }
    }
    tx.commit()
        .await
        .store_context("failed to commit TOTP update")?;
    Ok(next)
}

/// Inserts or replaces an enrolment (already at the stored precision).
async fn write_totp(conn: &mut PgConnection, record: &TotpRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_totp (user_id, secret, confirmed_at, last_used_step, recovery_code_hashes, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
         confirmed_at = excluded.confirmed_at, last_used_step = excluded.last_used_step, \
         recovery_code_hashes = excluded.recovery_code_hashes, created_at = excluded.created_at",
    )
    .bind(record.user_id.0)
    .bind(&record.secret)
    .bind(record.confirmed_at)
    .bind(record.last_used_step)
    .bind(Json(&record.recovery_code_hashes))
    .bind(record.created_at)
    .execute(conn)
    .await
    .store_context("failed to write TOTP enrolment")?;
    Ok(())
}

/// Stores a login challenge.
pub(crate) async fn insert_challenge(
    pool: &PgPool,
    challenge: &MfaChallengeRecord,
) -> Result<(), StoreError> {
    let challenge = normalise_challenge(challenge.clone());
    sqlx::query("INSERT INTO mfa_challenges (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(&challenge.token_hash)
        .bind(challenge.user_id.0)
        .bind(challenge.expires_at)
        .execute(pool)
        .await
        .store_context("failed to insert MFA challenge")?;
    Ok(())
}

/// A login challenge by the hash of its token, expired or not (the caller checks the expiry).
pub(crate) async fn find_challenge(
    pool: &PgPool,
    token_hash: &str,
) -> Result<Option<MfaChallengeRecord>, StoreError> {
    let row: Option<MfaChallengeRow> = sqlx::query_as(
        "SELECT token_hash, user_id, expires_at FROM mfa_challenges WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
    .store_context("failed to read MFA challenge")?;
    Ok(row.map(MfaChallengeRecord::from))
}

/// Deletes a login challenge; true when it was there. Of two concurrent deletions, the second
/// waits for the first's row lock and then finds the row gone.
pub(crate) async fn delete_challenge(pool: &PgPool, token_hash: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .store_context("failed to delete MFA challenge")?;
    Ok(deleted.rows_affected() > 0)
}

impl MfaStore for PostgresEngine {
    async fn find_totp(&self, user_id: UserId) -> Result<Option<TotpRecord>, StoreError> {
        find_totp(&self.pool, user_id).await
    }

    async fn update_totp<E, F>(&self, user_id: UserId, change: F) -> Result<Option<TotpRecord>, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, E> + Send + 'static,
    {
        update_totp(&self.pool, user_id, change).await
    }

    async fn insert_mfa_challenge(&self, challenge: &MfaChallengeRecord) -> Result<(), StoreError> {
        insert_challenge(&self.pool, challenge).await
    }

    async fn find_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallengeRecord>, StoreError> {
        find_challenge(&self.pool, token_hash).await
    }

    async fn delete_mfa_challenge(&self, token_hash: &str) -> Result<bool, StoreError> {
        delete_challenge(&self.pool, token_hash).await
    }
}
