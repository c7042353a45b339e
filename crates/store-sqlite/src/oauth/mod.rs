//! The OAuth2 authorization server's rows: clients, authorization codes and revoked access
//! tokens here, refresh token families in [`refresh`].

pub(crate) mod refresh;

use coffre_app::ports::{
    AuthorizationCodeRecord, ClientRecord, OAuthStore, RefreshTokenRecord, RefreshTokenState,
    Rotation, StoreError, UserRecord,
};
use coffre_domain::UserId;
use coffre_domain::oauth::ClientId;
use coffre_store_sql::oauth::{
    AuthorizationCodeRow, ClientColumns, client_record, grant_names, normalise_client,
    normalise_code,
};
use sqlx::SqlitePool;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::SqliteEngine;
use crate::error::StoreContext;
use crate::instants::instant_text;
use coffre_store_sql::logins::insert_user_row;

/// An `oauth_clients` row: the lists are JSON text in SQLite.
#[derive(Debug, sqlx::FromRow)]
struct ClientRow {
    #[sqlx(flatten)]
    columns: ClientColumns,
    redirect_uris: Json<Vec<String>>,
    grants: Json<Vec<String>>,
}

/// Inserts a client and its service user, if any, in one transaction: both exist, or neither.
pub(crate) async fn insert_client(
    write: &SqlitePool,
    record: &ClientRecord,
    service_user: Option<&UserRecord>,
) -> Result<(), StoreError> {
    let record = normalise_client(record.clone());
    let client = &record.client;
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin client insert")?;
    if let Some(user) = service_user {
        insert_user_row::<SqliteEngine>(&mut tx, user).await?;
    }
    sqlx::query(
        "INSERT INTO oauth_clients (id, name, client_type, redirect_uris, grants, scope, first_party, \
         introspect, service_user_id, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(client.id.0)
    .bind(&client.name)
    .bind(client.client_type.as_str())
    .bind(Json(&client.redirect_uris))
    .bind(Json(grant_names(&client.grants)))
    .bind(client.scopes.to_string())
    .bind(client.first_party)
    .bind(client.introspect)
    .bind(client.service_user.map(|id| id.0))
    .bind(&record.secret_hash)
    .bind(instant_text(record.created_at)?)
    .execute(&mut *tx)
    .await
    .store_context("failed to insert client")?;
    tx.commit()
        .await
        .store_context("failed to commit client insert")
}

/// A client by id.
pub(crate) async fn find_client(
    read: &SqlitePool,
    id: ClientId,
) -> Result<Option<ClientRecord>, StoreError> {
    let row: Option<ClientRow> = sqlx::query_as(
        "SELECT id, name, client_type, redirect_uris, grants, scope, first_party, introspect, \
         service_user_id, secret_hash, created_at FROM oauth_clients WHERE id = ?",
    )
    .bind(id.0)
    .fetch_optional(read)
    .await
    .store_context("failed to read client")?;
    row.map(|row| client_record(row.columns, row.redirect_uris.0, row.grants.0))
        .transpose()
}

/// Stores a new authorization code.
pub(crate) async fn insert_code(
    write: &SqlitePool,
    code: &AuthorizationCodeRecord,
) -> Result<(), StoreError> {
    let code = normalise_code(code.clone());
    sqlx::query(
        "INSERT INTO oauth_authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, \
         code_challenge, nonce, amr, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&code.code_hash)
    .bind(code.client_id.0)
    .bind(code.user_id.0)
    .bind(&code.redirect_uri)
    .bind(&code.scope)
    .bind(&code.code_challenge)
    .bind(&code.nonce)
    .bind(&code.amr)
    .bind(instant_text(code.auth_time)?)
    .bind(instant_text(code.expires_at)?)
    .execute(write)
    .await
    .store_context("failed to insert authorization code")?;
    Ok(())
}

/// Deletes and returns a code that has not expired, in one statement on the single writer: of
/// two redemptions, the second finds nothing. An expired code is left for the purge.
pub(crate) async fn take_code(
    write: &SqlitePool,
    code_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<AuthorizationCodeRecord>, StoreError> {
    let row: Option<AuthorizationCodeRow> = sqlx::query_as(
        "DELETE FROM oauth_authorization_codes WHERE code_hash = ? AND expires_at > ? \
         RETURNING code_hash, client_id, user_id, redirect_uri, scope, code_challenge, nonce, amr, \
         auth_time, expires_at",
    )
    .bind(code_hash)
    .bind(instant_text(now)?)
    .fetch_optional(write)
    .await
    .store_context("failed to take authorization code")?;
    Ok(row.map(AuthorizationCodeRecord::from))
}

/// Puts an access token id on the revocation list; already there is fine.
pub(crate) async fn revoke_access_token(
    write: &SqlitePool,
    jti: Uuid,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(jti)
    .bind(instant_text(expires_at)?)
    .execute(write)
    .await
    .store_context("failed to revoke access token")?;
    Ok(())
}

/// True when the access token id is on the revocation list.
pub(crate) async fn access_token_revoked(read: &SqlitePool, jti: Uuid) -> Result<bool, StoreError> {
    let revoked: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?)")
            .bind(jti)
            .fetch_one(read)
            .await
            .store_context("failed to read revoked access token")?;
    Ok(revoked)
}

impl OAuthStore for SqliteEngine {
    async fn insert_client(
        &self,
        client: &ClientRecord,
        service_user: Option<&UserRecord>,
    ) -> Result<(), StoreError> {
        insert_client(&self.write, client, service_user).await
    }

    async fn find_client(&self, id: ClientId) -> Result<Option<ClientRecord>, StoreError> {
        find_client(&self.read, id).await
    }

    async fn insert_authorization_code(
        &self,
        code: &AuthorizationCodeRecord,
    ) -> Result<(), StoreError> {
        insert_code(&self.write, code).await
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCodeRecord>, StoreError> {
        take_code(&self.write, code_hash, now).await
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        refresh::insert(&self.write, token).await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &RefreshTokenRecord,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        refresh::rotate(&self.write, presented_hash, next, now).await
    }

    async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenState>, StoreError> {
        refresh::find(&self.read, token_hash).await
    }

    async fn revoke_refresh_family(
        &self,
        family_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_family(&self.write, family_id, now).await
    }

    async fn revoke_user_refresh_families(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_user_families(&self.write, user_id, now).await
    }

    async fn revoke_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        revoke_access_token(&self.write, jti, expires_at).await
    }

    async fn access_token_revoked(&self, jti: Uuid) -> Result<bool, StoreError> {
        access_token_revoked(&self.read, jti).await
    }
}
