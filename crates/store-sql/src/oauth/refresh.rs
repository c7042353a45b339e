//! Refresh token families: issue, rotate with reuse detection, revoke.
//!
//! Every write to a family's rows holds the family's key lock ([`Engine::lock_key`]). A row
//! lock on the presented token would serialize two presentations of it, but not a rotation and
//! a revocation: the revocation's `UPDATE` would miss the token the rotation inserts, and the
//! two would lock the family's rows in different orders. With the family lock, whoever comes
//! second reads (in a new `READ COMMITTED` snapshot on PostgreSQL; SQLite's single writer
//! serializes them anyway) everything the first one wrote.

use coffre_app::ports::{RefreshTokenRecord, RefreshTokenState, Rotation, StoreError};
use coffre_domain::UserId;
use sqlx::{Database, Encode, FromRow, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::{RefreshTokenRow, RotationPlan, normalise_refresh_token, plan_rotation};
use crate::engine::{Engine, StoreContext};

/// The namespace of a refresh token family's key lock, so that these locks never collide with
/// other advisory locks ("rft" in ASCII).
const LOCK_NAMESPACE: i32 = 0x0072_6674;

/// Inserts a refresh token on any connection.
pub(super) async fn insert_row<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    token: &RefreshTokenRecord,
) -> Result<(), StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
{
    let token = normalise_refresh_token(token.clone());
    sqlx::query(
        "INSERT INTO oauth_refresh_tokens (token_hash, family_id, client_id, user_id, scope, amr, \
         auth_time, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token.token_hash.as_str())
    .bind(token.family_id)
    .bind(token.client_id.0)
    .bind(token.user_id.0)
    .bind(token.scope.as_str())
    .bind(token.amr.as_str())
    .bind(E::instant(token.auth_time)?)
    .bind(E::instant(token.issued_at)?)
    .bind(E::instant(token.expires_at)?)
    .execute(E::conn(conn))
    .await
    .store_context::<E>("failed to insert refresh token")?;
    Ok(())
}

/// Reads a token and whether its family is revoked, on any connection.
pub(super) async fn fetch<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    token_hash: &str,
) -> Result<Option<RefreshTokenState>, StoreError>
where
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    RefreshTokenRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let row: Option<RefreshTokenRow> = sqlx::query_as(
        "SELECT t.token_hash, t.family_id, t.client_id, t.user_id, t.scope, t.amr, t.auth_time, \
         t.issued_at, t.expires_at, t.used_at, EXISTS (SELECT 1 FROM oauth_refresh_tokens f \
         WHERE f.family_id = t.family_id AND f.revoked_at IS NOT NULL) AS family_revoked \
         FROM oauth_refresh_tokens t WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(E::conn(conn))
    .await
    .store_context::<E>("failed to read refresh token")?;
    Ok(row.map(RefreshTokenState::from))
}

/// Presents a token: rotates it if live, revokes its family if it was used already (see
/// [`plan_rotation`]), under the family's lock.
pub(super) async fn rotate<E: Engine>(
    engine: &E,
    presented_hash: &str,
    next: &RefreshTokenRecord,
    now: OffsetDateTime,
) -> Result<Rotation, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    (Uuid,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    RefreshTokenRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let mut tx = engine.begin_write().await?;
    // A token's family never changes, so it can be read before the lock.
    let family_id: Option<Uuid> =
        sqlx::query_scalar("SELECT family_id FROM oauth_refresh_tokens WHERE token_hash = $1")
            .bind(presented_hash)
            .fetch_optional(E::conn(&mut tx))
            .await
            .store_context::<E>("failed to read refresh token family")?;
    let Some(family_id) = family_id else {
        return Ok(Rotation::Invalid);
    };
    E::lock_key(&mut tx, LOCK_NAMESPACE, &family_id.to_string()).await?;
    let presented = fetch::<E>(&mut tx, presented_hash).await?;
    let plan = plan_rotation(presented, next, now)?;
    match &plan {
        RotationPlan::Refuse => {}
        RotationPlan::RevokeFamily(family_id) => {
            revoke_family_on::<E>(&mut tx, *family_id, now).await?;
        }
        RotationPlan::Rotate(_) => {
            sqlx::query("UPDATE oauth_refresh_tokens SET used_at = $1 WHERE token_hash = $2")
                .bind(E::instant(now)?)
                .bind(presented_hash)
                .execute(E::conn(&mut tx))
                .await
                .store_context::<E>("failed to mark refresh token used")?;
            insert_row::<E>(&mut tx, next).await?;
        }
    }
    tx.commit()
        .await
        .store_context::<E>("failed to commit refresh token rotation")?;
    Ok(plan.outcome())
}

/// Revokes every token of a family not revoked yet (the first revocation's time stays); the
/// caller holds the family's lock.
async fn revoke_family_on<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    family_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
{
    sqlx::query(
        "UPDATE oauth_refresh_tokens SET revoked_at = $1 \
         WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(E::instant(now)?)
    .bind(family_id)
    .execute(E::conn(conn))
    .await
    .store_context::<E>("failed to revoke refresh token family")?;
    Ok(())
}

/// Revokes a family.
pub(super) async fn revoke_family<E: Engine>(
    engine: &E,
    family_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
{
    let mut tx = engine.begin_write().await?;
    E::lock_key(&mut tx, LOCK_NAMESPACE, &family_id.to_string()).await?;
    revoke_family_on::<E>(&mut tx, family_id, now).await?;
    tx.commit()
        .await
        .store_context::<E>("failed to commit refresh family revocation")
}

/// Revokes every family that has a token of the user, their locks taken together (in the one
/// order [`Engine::lock_keys`] keeps). A family created meanwhile (a login racing the logout)
/// is not revoked: it came after.
pub(super) async fn revoke_user_families<E: Engine>(
    engine: &E,
    user_id: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (Uuid,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let mut tx = engine.begin_write().await?;
    let families: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT family_id FROM oauth_refresh_tokens \
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id.0)
    .fetch_all(E::conn(&mut tx))
    .await
    .store_context::<E>("failed to read the user's refresh families")?;
    let keys: Vec<String> = families.iter().map(Uuid::to_string).collect();
    E::lock_keys(&mut tx, LOCK_NAMESPACE, &keys).await?;
    for family_id in families {
        revoke_family_on::<E>(&mut tx, family_id, now).await?;
    }
    tx.commit()
        .await
        .store_context::<E>("failed to commit the user's refresh family revocation")
}
