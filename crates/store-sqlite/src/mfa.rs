//! Second factors: TOTP enrolments, updated under lock, and the login challenges waiting for
//! them.
//!
//! An enrolment's update runs on the single writer inside `BEGIN IMMEDIATE`, which holds the
//! database from the read of the enrolment to the commit: two logins presenting one code are
//! serialized, and the second sees the step the first one used.

use coffre_app::ports::{MfaChallengeRecord, MfaStore, StoreError, TotpRecord};
use coffre_domain::UserId;
use coffre_store_sql::mfa::{MfaChallengeRow, TotpRow, normalise_challenge, totp_to_write};
use sqlx::types::Json;
use sqlx::{SqliteConnection, SqlitePool};

use crate::SqliteEngine;
use crate::error::StoreContext;
use crate::instants::{instant_text, optional_instant_text};

/// Reads a user's enrolment on any connection.
async fn fetch_totp(
    conn: &mut SqliteConnection,
    user_id: UserId,
) -> Result<Option<TotpRecord>, StoreError> {
    let row: Option<TotpRow> = sqlx::query_as(
        "SELECT user_id, secret, confirmed_at, last_used_step, recovery_code_hashes, created_at \
         FROM user_totp WHERE user_id = ?",
    )
    .bind(user_id.0)
    .fetch_optional(conn)
    .await
    .store_context("failed to read TOTP enrolment")?;
    Ok(row.map(TotpRecord::from))
}

/// Reads a user's enrolment.
pub(crate) async fn find_totp(
    read: &SqlitePool,
    user_id: UserId,
) -> Result<Option<TotpRecord>, StoreError> {
    let mut conn = read
        .acquire()
        .await
        .store_context("failed to acquire a connection")?;
    fetch_totp(&mut conn, user_id).await
}

/// Locks the database (the single writer), checks that the user exists, hands their enrolment
/// to `change` and writes what it returns: stored if a record, deleted if `None`. An error
/// from `change` ends the transaction unwritten.
pub(crate) async fn update_totp<E, F>(
    write: &SqlitePool,
    user_id: UserId,
    change: F,
) -> Result<Option<TotpRecord>, E>
where
    E: From<StoreError>,
    F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, E>,
{
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin TOTP update")?;
    let user_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)")
        .bind(user_id.0)
        .fetch_one(&mut *tx)
        .await
        .store_context("failed to read the TOTP enrolment's user")?;
    if !user_exists {
        return Err(E::from(StoreError::NotFound));
    }
    let current = fetch_totp(&mut tx, user_id).await?;
    let next = totp_to_write(user_id, change(current)?)?;
    match &next {
        Some(record) => write_totp(&mut tx, record).await?,
        None => {
            sqlx::query("DELETE FROM user_totp WHERE user_id = ?")
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
async fn write_totp(conn: &mut SqliteConnection, record: &TotpRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_totp (user_id, secret, confirmed_at, last_used_step, recovery_code_hashes, \
         created_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
         confirmed_at = excluded.confirmed_at, last_used_step = excluded.last_used_step, \
         recovery_code_hashes = excluded.recovery_code_hashes, created_at = excluded.created_at",
    )
    .bind(record.user_id.0)
    .bind(&record.secret)
    .bind(optional_instant_text(record.confirmed_at)?)
    .bind(record.last_used_step)
    .bind(Json(&record.recovery_code_hashes))
    .bind(instant_text(record.created_at)?)
    .execute(conn)
    .await
    .store_context("failed to write TOTP enrolment")?;
    Ok(())
}

/// Stores a login challenge.
pub(crate) async fn insert_challenge(
    write: &SqlitePool,
    challenge: &MfaChallengeRecord,
) -> Result<(), StoreError> {
    let challenge = normalise_challenge(challenge.clone());
    sqlx::query("INSERT INTO mfa_challenges (token_hash, user_id, expires_at) VALUES (?, ?, ?)")
        .bind(&challenge.token_hash)
        .bind(challenge.user_id.0)
        .bind(instant_text(challenge.expires_at)?)
        .execute(write)
        .await
        .store_context("failed to insert MFA challenge")?;
    Ok(())
}

/// A login challenge by the hash of its token, expired or not (the caller checks the expiry).
pub(crate) async fn find_challenge(
    read: &SqlitePool,
    token_hash: &str,
) -> Result<Option<MfaChallengeRecord>, StoreError> {
    let row: Option<MfaChallengeRow> = sqlx::query_as(
        "SELECT token_hash, user_id, expires_at FROM mfa_challenges WHERE token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(read)
    .await
    .store_context("failed to read MFA challenge")?;
    Ok(row.map(MfaChallengeRecord::from))
}

/// Deletes a login challenge; true when it was there. One statement on the single writer: of
/// two deletions, only the first deletes a row.
pub(crate) async fn delete_challenge(
    write: &SqlitePool,
    token_hash: &str,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = ?")
        .bind(token_hash)
        .execute(write)
        .await
        .store_context("failed to delete MFA challenge")?;
    Ok(deleted.rows_affected() > 0)
}

impl MfaStore for SqliteEngine {
    async fn find_totp(&self, user_id: UserId) -> Result<Option<TotpRecord>, StoreError> {
        find_totp(&self.read, user_id).await
    }

    async fn update_totp<E, F>(&self, user_id: UserId, change: F) -> Result<Option<TotpRecord>, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, E> + Send + 'static,
    {
        update_totp(&self.write, user_id, change).await
    }

    async fn insert_mfa_challenge(&self, challenge: &MfaChallengeRecord) -> Result<(), StoreError> {
        insert_challenge(&self.write, challenge).await
    }

    async fn find_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallengeRecord>, StoreError> {
        find_challenge(&self.read, token_hash).await
    }

    async fn delete_mfa_challenge(&self, token_hash: &str) -> Result<bool, StoreError> {
        delete_challenge(&self.write, token_hash).await
    }
}
