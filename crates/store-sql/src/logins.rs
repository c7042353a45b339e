//! Users and their server-side sessions.

use coffre_app::ports::{SessionRecord, SessionStore, StoreError, UserRecord, UserStore};
use coffre_domain::{UserId, Username};
use sqlx::{Database, Encode, FromRow, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::{Engine, StoreContext};
use crate::rows::{SessionUserRow, UserRow};
use crate::sql::for_update;
use crate::store::SqlStore;

/// Inserts a user on any connection: alone, or in the transaction that creates their
/// customer or OAuth client.
pub async fn insert_user_row<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    user: &UserRecord,
) -> Result<(), StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Uuid>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
{
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, customer_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user.id.0)
    .bind(user.username.as_str())
    .bind(user.password_hash.as_str())
    .bind(user.role.as_str())
    .bind(user.customer_id.map(|id| id.0))
    .bind(E::instant(user.created_at)?)
    .execute(E::conn(conn))
    .await
    .store_context::<E>("failed to insert user")?;
    Ok(())
}

impl<E: Engine> UserStore for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Uuid>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    UserRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Inserts a staff user.
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        insert_user_row::<E>(&mut conn, user).await
    }

    async fn find_user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserRecord>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, username, password_hash, role, customer_id, created_at FROM users \
             WHERE username = $1",
        )
        .bind(username.as_str())
        .fetch_optional(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read user")?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, username, password_hash, role, customer_id, created_at FROM users \
             WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read user")?;
        row.map(UserRecord::try_from).transpose()
    }
}

impl<E: Engine> SessionStore for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    SessionUserRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Inserts a session and deletes the one it replaces and the user's oldest beyond
    /// `max_per_user`, in one transaction. The user's row is locked first (on SQLite, the
    /// single writer is), so that concurrent logins of one user cannot each keep the cap's
    /// worth of others.
    async fn insert_session(
        &self,
        session: &SessionRecord,
        replaces_token_hash: Option<&str>,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        let mut tx = self.engine.begin_write().await?;
        sqlx::query(for_update::<E>("SELECT 1 FROM users WHERE id = $1"))
            .bind(session.user_id.0)
            .execute(E::conn(&mut tx))
            .await
            .store_context::<E>("failed to lock the session's user")?;
        if let Some(old) = replaces_token_hash {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(old)
                .execute(E::conn(&mut tx))
                .await
                .store_context::<E>("failed to delete the replaced session")?;
        }
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token_hash, created_at, amr, \
             last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.token_hash.as_str())
        .bind(session.user_id.0)
        .bind(session.csrf_token_hash.as_str())
        .bind(E::instant(session.created_at)?)
        .bind(session.amr.as_str())
        .bind(E::instant(session.last_seen_at)?)
        .bind(E::instant(session.expires_at)?)
        .execute(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to insert session")?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 AND token_hash NOT IN \
             (SELECT token_hash FROM sessions WHERE user_id = $1 AND token_hash <> $2 \
             ORDER BY created_at DESC, token_hash DESC LIMIT $3)",
        )
        .bind(session.user_id.0)
        .bind(session.token_hash.as_str())
        .bind(i64::from(max_per_user.saturating_sub(1)))
        .execute(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to end the oldest sessions")?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit session insert")
    }

    /// Finds a session and its user.
    async fn find_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let row: Option<SessionUserRow> = sqlx::query_as(
            "SELECT s.token_hash, s.user_id, s.csrf_token_hash, s.created_at, s.amr, \
             s.last_seen_at, s.expires_at, u.username, u.password_hash, u.role, u.customer_id, \
             u.created_at AS user_created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read session")?;
        row.map(<(SessionRecord, UserRecord)>::try_from).transpose()
    }

    /// Records activity. A session deleted meanwhile (a concurrent logout) is not an error:
    /// the request that touched it was authenticated when it started.
    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(E::instant(last_seen_at)?)
            .bind(token_hash)
            .execute(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to touch session")?;
        Ok(())
    }

    /// Deletes a session; deleting one that is already gone is not an error (logout is
    /// idempotent).
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(E::conn(&mut conn))
            .await
            .store_context::<E>("failed to delete session")?;
        Ok(())
    }
}
