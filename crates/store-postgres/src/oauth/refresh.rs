//! Refresh token families: issue, rotate with reuse detection, revoke.
//!
//! Every write to a family's rows holds the family's transaction-scoped advisory lock. A row
//! lock on the presented token would serialize two presentations of it, but not a rotation and
//! a revocation: the revocation's `UPDATE` would miss the token the rotation inserts, and the
//! two would lock the family's rows in different orders. With the family lock, whoever comes
//! second reads (in a new `READ COMMITTED` snapshot) everything the first one wrote.

use coffre_app::ports::{RefreshTokenRecord, RefreshTokenState, Rotation, StoreError};
use coffre_domain::UserId;
use coffre_store_sql::oauth::{
    RefreshTokenRow, RotationPlan, normalise_refresh_token, plan_rotation,
};
use coffre_store_sql::writes::stored_instant;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;

/// The first half of the two-part advisory lock key of a refresh token family, so that these
/// locks never collide with other advisory locks ("rft" in ASCII).
const ADVISORY_LOCK_NAMESPACE: i32 = 0x0072_6674;

/// Inserts a refresh token on any connection.
async fn insert_row(conn: &mut PgConnection, token: &RefreshTokenRecord) -> Result<(), StoreError> {
    let token = normalise_refresh_token(token.clone());
    sqlx::query(
        "INSERT INTO oauth_refresh_tokens (token_hash, family_id, client_id, user_id, scope, amr, \
         auth_time, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&token.token_hash)
    .bind(token.family_id)
    .bind(token.client_id.0)
    .bind(token.user_id.0)
    .bind(&token.scope)
    .bind(&token.amr)
    .bind(token.auth_time)
    .bind(token.issued_at)
    .bind(token.expires_at)
    .execute(conn)
    .await
    .store_context("failed to insert refresh token")?;
    Ok(())
}

/// Stores the first token of a new family (nobody else can know the family yet: no lock).
pub(crate) async fn insert(pool: &PgPool, token: &RefreshTokenRecord) -> Result<(), StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .store_context("failed to acquire a connection")?;
    insert_row(&mut conn, token).await
}

/// Reads a token and whether its family is revoked, on any connection.
async fn fetch(
    conn: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<RefreshTokenState>, StoreError> {
    let row: Option<RefreshTokenRow> = sqlx::query_as(
        "SELECT t.token_hash, t.family_id, t.client_id, t.user_id, t.scope, t.amr, t.auth_time, \
         t.issued_at, t.expires_at, t.used_at, EXISTS (SELECT 1 FROM oauth_refresh_tokens f \
         WHERE f.family_id = t.family_id AND f.revoked_at IS NOT NULL) AS family_revoked \
         FROM oauth_refresh_tokens t WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
    .store_context("failed to read refresh token")?;
    Ok(row.map(RefreshTokenState::from))
}

/// A refresh token by hash, whatever its state.
pub(crate) async fn find(
    pool: &PgPool,
    token_hash: &str,
) -> Result<Option<RefreshTokenState>, StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .store_context("failed to acquire a connection")?;
    fetch(&mut conn, token_hash).await
}

/// Waits for a family's lock, held until the transaction ends.
async fn lock_family(conn: &mut PgConnection, family_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2::text))")
        .bind(ADVISORY_LOCK_NAMESPACE)
        .bind(family_id)
        .execute(conn)
        .await
        .store_context("failed to lock refresh token family")?;
    Ok(())
}

/// Presents a token: rotates it if live, revokes its family if it was used already (see
/// [`plan_rotation`]), under the family's lock.
pub(crate) async fn rotate(
    pool: &PgPool,
    presented_hash: &str,
    next: &RefreshTokenRecord,
    now: OffsetDateTime,
) -> Result<Rotation, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin refresh token rotation")?;
    // A token's family never changes, so it can be read before the lock.
    let family_id: Option<Uuid> =
        sqlx::query_scalar("SELECT family_id FROM oauth_refresh_tokens WHERE token_hash = $1")
            .bind(presented_hash)
            .fetch_optional(&mut *tx)
            .await
            .store_context("failed to read refresh token family")?;
    let Some(family_id) = family_id else {
        return Ok(Rotation::Invalid);
    };
    lock_family(&mut tx, family_id).await?;
    let presented = fetch(&mut tx, presented_hash).await?;
    let plan = plan_rotation(presented, next, now)?;
    match &plan {
        RotationPlan::Refuse => {}
        RotationPlan::RevokeFamily(family_id) => {
            revoke_families_on(&mut tx, &[*family_id], now).await?;
        }
        RotationPlan::Rotate(_) => {
            sqlx::query("UPDATE oauth_refresh_tokens SET used_at = $1 WHERE token_hash = $2")
                .bind(stored_instant(now))
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

/// Revokes every token of these families not revoked yet (the first revocation's time stays);
/// the caller holds their locks.
async fn revoke_families_on(
    conn: &mut PgConnection,
    family_ids: &[Uuid],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE oauth_refresh_tokens SET revoked_at = $1 \
         WHERE family_id = ANY($2) AND revoked_at IS NULL",
    )
    .bind(stored_instant(now))
    .bind(family_ids)
    .execute(conn)
    .await
    .store_context("failed to revoke refresh token families")?;
    Ok(())
}

/// Revokes a family.
pub(crate) async fn revoke_family(
    pool: &PgPool,
    family_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin refresh family revocation")?;
    lock_family(&mut tx, family_id).await?;
    revoke_families_on(&mut tx, &[family_id], now).await?;
    tx.commit()
        .await
        .store_context("failed to commit refresh family revocation")
}

/// Revokes every family that has a token of the user. Their locks are taken in the order of
/// their lock keys, the one order every holder of several family locks uses, so that two
/// revocations never wait for each other in a cycle. A family created meanwhile (a login racing
/// the logout) is not revoked: it came after.
pub(crate) async fn revoke_user_families(
    pool: &PgPool,
    user_id: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin the user's refresh family revocation")?;
    let families: Vec<(Uuid, i32)> = sqlx::query_as(
        "SELECT DISTINCT family_id, hashtext(family_id::text) AS lock_key \
         FROM oauth_refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY lock_key",
    )
    .bind(user_id.0)
    .fetch_all(&mut *tx)
    .await
    .store_context("failed to read the user's refresh families")?;
    // Families whose keys collide share a lock, taken twice: advisory locks are re-entrant.
    for (_, lock_key) in &families {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(ADVISORY_LOCK_NAMESPACE)
            .bind(*lock_key)
            .execute(&mut *tx)
            .await
            .store_context("failed to lock refresh token family")?;
    }
    let family_ids: Vec<Uuid> = families.into_iter().map(|(id, _)| id).collect();
    revoke_families_on(&mut tx, &family_ids, now).await?;
    tx.commit()
        .await
        .store_context("failed to commit the user's refresh family revocation")
}
