//! Refresh token families: issue, rotate with reuse detection, revoke.
//!
//! Every write runs on the single writer inside `BEGIN IMMEDIATE`, which holds the database
//! from the read of the presented token to the commit: two presentations of one token are
//! serialized, and the second sees the first one's writes.

use coffre_app::ports::{RefreshTokenRecord, RefreshTokenState, Rotation, StoreError};
use coffre_domain::UserId;
use coffre_store_sql::oauth::{
    RefreshTokenRow, RotationPlan, normalise_refresh_token, plan_rotation,
};
use sqlx::{SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;
use crate::instants::instant_text;

/// Inserts a refresh token on any connection.
async fn insert_row(
    conn: &mut SqliteConnection,
    token: &RefreshTokenRecord,
) -> Result<(), StoreError> {
    let token = normalise_refresh_token(token.clone());
    sqlx::query(
        "INSERT INTO oauth_refresh_tokens (token_hash, family_id, client_id, user_id, scope, amr, \
         auth_time, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&token.token_hash)
    .bind(token.family_id)
    .bind(token.client_id.0)
    .bind(token.user_id.0)
    .bind(&token.scope)
    .bind(&token.amr)
    .bind(instant_text(token.auth_time)?)
    .bind(instant_text(token.issued_at)?)
    .bind(instant_text(token.expires_at)?)
    .execute(conn)
    .await
    .store_context("failed to insert refresh token")?;
    Ok(())
}

/// Stores the first token of a new family.
pub(crate) async fn insert(
    write: &SqlitePool,
    token: &RefreshTokenRecord,
) -> Result<(), StoreError> {
    let mut conn = write
        .acquire()
        .await
        .store_context("failed to acquire the writer")?;
    insert_row(&mut conn, token).await
}

/// Reads a token and whether its family is revoked, on any connection.
async fn fetch(
    conn: &mut SqliteConnection,
    token_hash: &str,
) -> Result<Option<RefreshTokenState>, StoreError> {
    let row: Option<RefreshTokenRow> = sqlx::query_as(
        "SELECT t.token_hash, t.family_id, t.client_id, t.user_id, t.scope, t.amr, t.auth_time, \
         t.issued_at, t.expires_at, t.used_at, EXISTS (SELECT 1 FROM oauth_refresh_tokens f \
         WHERE f.family_id = t.family_id AND f.revoked_at IS NOT NULL) AS family_revoked \
         FROM oauth_refresh_tokens t WHERE t.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
    .store_context("failed to read refresh token")?;
    Ok(row.map(RefreshTokenState::from))
}

/// A refresh token by hash, whatever its state.
pub(crate) async fn find(
    read: &SqlitePool,
    token_hash: &str,
) -> Result<Option<RefreshTokenState>, StoreError> {
    let mut conn = read
        .acquire()
        .await
        .store_context("failed to acquire a connection")?;
    fetch(&mut conn, token_hash).await
}

/// Presents a token: rotates it if live, revokes its family if it was used already (see
/// [`plan_rotation`]), all in one transaction on the writer.
pub(crate) async fn rotate(
    write: &SqlitePool,
    presented_hash: &str,
    next: &RefreshTokenRecord,
    now: OffsetDateTime,
) -> Result<Rotation, StoreError> {
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin refresh token rotation")?;
    let presented = fetch(&mut tx, presented_hash).await?;
    let plan = plan_rotation(presented, next, now)?;
    match &plan {
        RotationPlan::Refuse => {}
        RotationPlan::RevokeFamily(family_id) => {
            revoke_family_on(&mut tx, *family_id, now).await?;
        }
        RotationPlan::Rotate(_) => {
            sqlx::query("UPDATE oauth_refresh_tokens SET used_at = ? WHERE token_hash = ?")
                .bind(instant_text(now)?)
                .bind(presented_hash)
                .execute(&mut *tx)
                .await
                .store_context("failed to mark refresh token used")?;
            insert_row(&mut tx, next).await?;
        }
    }
    tx.commit()
        .await
        .store_context("failed to commit refresh token rotation")?;
    Ok(plan.outcome())
}

/// Revokes every token of a family not revoked yet (the first revocation's time stays).
async fn revoke_family_on(
    conn: &mut SqliteConnection,
    family_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
    )
    .bind(instant_text(now)?)
    .bind(family_id)
    .execute(conn)
    .await
    .store_context("failed to revoke refresh token family")?;
    Ok(())
}

/// Revokes a family.
pub(crate) async fn revoke_family(
    write: &SqlitePool,
    family_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut conn = write
        .acquire()
        .await
        .store_context("failed to acquire the writer")?;
    revoke_family_on(&mut conn, family_id, now).await
}

/// Revokes every family that has a token of the user.
pub(crate) async fn revoke_user_families(
    write: &SqlitePool,
    user_id: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND family_id IN \
         (SELECT family_id FROM oauth_refresh_tokens WHERE user_id = ?)",
    )
    .bind(instant_text(now)?)
    .bind(user_id.0)
    .execute(write)
    .await
    .store_context("failed to revoke the user's refresh token families")?;
    Ok(())
}
