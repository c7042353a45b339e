//! Users and their server-side sessions.

use coffre_app::ports::{SessionRecord, SessionStore, StoreError, UserRecord, UserStore};
use coffre_domain::{UserId, Username};
use coffre_store_sql::rows::{SessionUserRow, UserRow};
use sqlx::{SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use crate::SqliteEngine;
use crate::error::StoreContext;
use crate::instants::instant_text;

/// Inserts a user on any connection (alone, or with their customer).
pub(crate) async fn insert_user_row(
    conn: &mut SqliteConnection,
    user: &UserRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, customer_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id.0)
    .bind(user.username.as_str())
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.customer_id.map(|id| id.0))
    .bind(instant_text(user.created_at)?)
    .execute(conn)
    .await
    .store_context("failed to insert user")?;
    Ok(())
}

/// Inserts a staff user.
pub(crate) async fn insert_user(write: &SqlitePool, user: &UserRecord) -> Result<(), StoreError> {
    let mut conn = write
        .acquire()
        .await
        .store_context("failed to acquire the writer")?;
    insert_user_row(&mut conn, user).await
}

/// Finds a user by login name.
pub(crate) async fn find_user(
    read: &SqlitePool,
    username: &Username,
) -> Result<Option<UserRecord>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, username, password_hash, role, customer_id, created_at FROM users WHERE username = ?",
    )
    .bind(username.as_str())
    .fetch_optional(read)
    .await
    .store_context("failed to read user")?;
    row.map(UserRecord::try_from).transpose()
}

/// Finds a user by id.
pub(crate) async fn find_user_by_id(
    read: &SqlitePool,
    id: UserId,
) -> Result<Option<UserRecord>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, username, password_hash, role, customer_id, created_at FROM users WHERE id = ?",
    )
    .bind(id.0)
    .fetch_optional(read)
    .await
    .store_context("failed to read user")?;
    row.map(UserRecord::try_from).transpose()
}

/// Inserts a session and deletes the one it replaces and the user's oldest beyond
/// `max_per_user`, in one transaction (`BEGIN IMMEDIATE`: logins of a user are serialised).
pub(crate) async fn insert(
    write: &SqlitePool,
    session: &SessionRecord,
    replaces_token_hash: Option<&str>,
    max_per_user: u32,
) -> Result<(), StoreError> {
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin session insert")?;
    if let Some(old) = replaces_token_hash {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(old)
            .execute(&mut *tx)
            .await
            .store_context("failed to delete the replaced session")?;
    }
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token_hash, created_at, amr, last_seen_at, \
         expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&session.token_hash)
    .bind(session.user_id.0)
    .bind(&session.csrf_token_hash)
    .bind(instant_text(session.created_at)?)
    .bind(&session.amr)
    .bind(instant_text(session.last_seen_at)?)
    .bind(instant_text(session.expires_at)?)
    .execute(&mut *tx)
    .await
    .store_context("failed to insert session")?;
    sqlx::query(
        "DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2 AND token_hash NOT IN \
         (SELECT token_hash FROM sessions WHERE user_id = ?1 AND token_hash <> ?2 \
         ORDER BY created_at DESC, token_hash DESC LIMIT ?3)",
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
    read: &SqlitePool,
    token_hash: &str,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let row: Option<SessionUserRow> = sqlx::query_as(
        "SELECT s.token_hash, s.user_id, s.csrf_token_hash, s.created_at, s.amr, s.last_seen_at, \
         s.expires_at, u.username, u.password_hash, u.role, u.customer_id, \
         u.created_at AS user_created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(read)
    .await
    .store_context("failed to read session")?;
    row.map(<(SessionRecord, UserRecord)>::try_from).transpose()
}

/// Records activity. A session deleted meanwhile (a concurrent logout) is not an error: the
/// request that touched it was authenticated when it started.
pub(crate) async fn touch(
    write: &SqlitePool,
    token_hash: &str,
    last_seen_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
        .bind(instant_text(last_seen_at)?)
        .bind(token_hash)
        .execute(write)
        .await
        .store_context("failed to touch session")?;
    Ok(())
}

/// Deletes a session; deleting one that is already gone is not an error (logout is idempotent).
pub(crate) async fn delete(write: &SqlitePool, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(write)
        .await
        .store_context("failed to delete session")?;
    Ok(())
}

impl UserStore for SqliteEngine {
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        insert_user(&self.write, user).await
    }

    async fn find_user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserRecord>, StoreError> {
        find_user(&self.read, username).await
    }

    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        find_user_by_id(&self.read, id).await
    }
}

impl SessionStore for SqliteEngine {
    async fn insert_session(
        &self,
        session: &SessionRecord,
        replaces_token_hash: Option<&str>,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        insert(&self.write, session, replaces_token_hash, max_per_user).await
    }

    async fn find_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        find(&self.read, token_hash).await
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        touch(&self.write, token_hash, last_seen_at).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        delete(&self.write, token_hash).await
    }
}
