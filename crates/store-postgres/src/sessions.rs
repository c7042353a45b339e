//! Users and their server-side sessions.

use coffre_app::ports::{SessionRecord, SessionStore, StoreError, UserRecord, UserStore};
use coffre_domain::{UserId, Username};
use coffre_store_sql::rows::{SessionUserRow, UserRow};
use coffre_store_sql::writes::stored_instant;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::PostgresEngine;
use crate::error::StoreContext;

/// Inserts a user on any connection (alone, or with their customer).
pub(crate) async fn insert_user_row(
    conn: &mut PgConnection,
    user: &UserRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, customer_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user.id.0)
    .bind(user.username.as_str())
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.customer_id.map(|id| id.0))
    .bind(stored_instant(user.created_at))
    .execute(conn)
    .await
    .store_context("failed to insert user")?;
    Ok(())
}

/// Inserts a staff user.
pub(crate) async fn insert_user(pool: &PgPool, user: &UserRecord) -> Result<(), StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .store_context("failed to acquire a connection")?;
    insert_user_row(&mut conn, user).await
}

/// Finds a user by login name.
pub(crate) async fn find_user(
    pool: &PgPool,
    username: &Username,
) -> Result<Option<UserRecord>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, username, password_hash, role, customer_id, created_at FROM users WHERE username = $1",
    )
    .bind(username.as_str())
    .fetch_optional(pool)
    .await
    .store_context("failed to read user")?;
    row.map(UserRecord::try_from).transpose()
}

/// Finds a user by id.
pub(crate) async fn find_user_by_id(
    pool: &PgPool,
    id: UserId,
) -> Result<Option<UserRecord>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, username, password_hash, role, customer_id, created_at FROM users WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .store_context("failed to read user")?;
    row.map(UserRecord::try_from).transpose()
}

/// Inserts a session and deletes the one it replaces and the user's oldest beyond
/// `max_per_user`, in one transaction. The user's row is locked first, so that concurrent
/// logins of one user cannot each keep the cap's worth of others.
pub(crate) async fn insert(
    pool: &PgPool,
    session: &SessionRecord,
    replaces_token_hash: Option<&str>,
    max_per_user: u32,
) -> Result<(), StoreError> {
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin session insert")?;
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(session.user_id.0)
        .execute(&mut *tx)
        .await
        .store_context("failed to lock the session's user")?;
    if let Some(old) = replaces_token_hash {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(old)
            .execute(&mut *tx)
            .await
            .store_context("failed to delete the replaced session")?;
    }
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token_hash, created_at, amr, last_seen_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&session.token_hash)
    .bind(session.user_id.0)
    .bind(&session.csrf_token_hash)
    .bind(stored_instant(session.created_at))
    .bind(&session.amr)
    .bind(stored_instant(session.last_seen_at))
    .bind(stored_instant(session.expires_at))
    .execute(&mut *tx)
    .await
    .store_context("failed to insert session")?;
    sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 AND token_hash NOT IN \
         (SELECT token_hash FROM sessions WHERE user_id = $1 AND token_hash <> $2 \
         ORDER BY created_at DESC, token_hash DESC LIMIT $3)",
    )
    .bind(session.user_id.0)
    .bind(&session.token_hash)
    .bind(i64::from(max_per_user.saturating_sub(1)))
    .execute(&mut *tx)
    .await
    .store_context("failed to end the oldest sessions")?;
    tx.commit()
        .await
        .store_context("failed to commit session insert")
}

/// Finds a session and its user.
pub(crate) async fn find(
    pool: &PgPool,
    token_hash: &str,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let row: Option<SessionUserRow> = sqlx::query_as(
        "SELECT s.token_hash, s.user_id, s.csrf_token_hash, s.created_at, s.amr, s.last_seen_at, \
         s.expires_at, u.username, u.password_hash, u.role, u.customer_id, \
         u.created_at AS user_created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
    .store_context("failed to read session")?;
    row.map(<(SessionRecord, UserRecord)>::try_from).transpose()
}

/// Records activity. A session deleted meanwhile (a concurrent logout) is not an error: the
/// request that touched it was authenticated when it started.
pub(crate) async fn touch(
    pool: &PgPool,
    token_hash: &str,
    last_seen_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(stored_instant(last_seen_at))
        .bind(token_hash)
        .execute(pool)
        .await
        .store_context("failed to touch session")?;
    Ok(())
}

/// Deletes a session; deleting one that is already gone is not an error (logout is idempotent).
pub(crate) async fn delete(pool: &PgPool, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .store_context("failed to delete session")?;
    Ok(())
}

impl UserStore for PostgresEngine {
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        insert_user(&self.pool, user).await
    }

    async fn find_user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserRecord>, StoreError> {
        find_user(&self.pool, username).await
    }

    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        find_user_by_id(&self.pool, id).await
    }
}

impl SessionStore for PostgresEngine {
    async fn insert_session(
        &self,
        session: &SessionRecord,
        replaces_token_hash: Option<&str>,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        insert(&self.pool, session, replaces_token_hash, max_per_user).await
    }

    async fn find_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        find(&self.pool, token_hash).await
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        touch(&self.pool, token_hash, last_seen_at).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        delete(&self.pool, token_hash).await
    }
}
