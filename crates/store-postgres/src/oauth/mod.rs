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
use coffre_store_sql::writes::stored_instant;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PostgresEngine;
use crate::error::StoreContext;
use coffre_store_sql::logins::insert_user_row;

/// An `oauth_clients` row: the lists are `text[]` in PostgreSQL.
#[derive(Debug, sqlx::FromRow)]
struct ClientRow {
    #[sqlx(flatten)]
    columns: ClientColumns,
    redirect_uris: Vec<String>,
    grants: Vec<String>,
}

/// Inserts a client and its service user, if any, in one transaction: both exist, or neither.
pub(crate) async fn insert_client(
    pool: &PgPool,
    record: &ClientRecord,
    service_user: Option<&UserRecord>,
) -> Result<(), StoreError> {
    let record = normalise_client(record.clone());
    let client = &record.client;
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin client insert")?;
    if let Some(user) = service_user {
        insert_user_row::<PostgresEngine>(&mut tx, user).await?;
    }
    sqlx::query(
        "INSERT INTO oauth_clients (id, name, client_type, redirect_uris, grants, scope, first_party, \
         introspect, service_user_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(client.id.0)
    .bind(&client.name)
    .bind(client.client_type.as_str())
    .bind(&client.redirect_uris)
    .bind(grant_names(&client.grants))
    .bind(client.scopes.to_string())
    .bind(client.first_party)
    .bind(client.introspect)
    .bind(client.service_user.map(|id| id.0))
    .bind(&record.secret_hash)
    .bind(record.created_at)
    .execute(&mut *tx)
    .await
    .store_context("failed to insert client")?;
    tx.commit()
        .await
        .store_context("failed to commit client insert")
}

/// A client by id.
pub(crate) async fn find_client(
    pool: &PgPool,
    id: ClientId,
) -> Result<Option<ClientRecord>, StoreError> {
    let row: Option<ClientRow> = sqlx::query_as(
        "SELECT id, name, client_type, redirect_uris, grants, scope, first_party, introspect, \
         service_user_id, secret_hash, created_at FROM oauth_clients WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .store_context("failed to read client")?;
    row.map(|row| client_record(row.columns, row.redirect_uris, row.grants))
        .transpose()
}

/// Stores a new authorization code.
pub(crate) async fn insert_code(
    pool: &PgPool,
    code: &AuthorizationCodeRecord,
) -> Result<(), StoreError> {
    let code = normalise_code(code.clone());
    sqlx::query(
        "INSERT INTO oauth_authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, \
         code_challenge, nonce, amr, auth_time, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&code.code_hash)
    .bind(code.client_id.0)
    .bind(code.user_id.0)
    .bind(&code.redirect_uri)
    .bind(&code.scope)
    .bind(&code.code_challenge)
    .bind(&code.nonce)
    .bind(&code.amr)
    .bind(code.auth_time)
    .bind(code.expires_at)
    .execute(pool)
    .await
    .store_context("failed to insert authorization code")?;
    Ok(())
}

/// Deletes and returns a code that has not expired, in one statement: of two concurrent
/// redemptions, the second waits for the first's row lock and then finds the row gone. An
/// expired code is left for the purge.
pub(crate) async fn take_code(
    pool: &PgPool,
    code_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<AuthorizationCodeRecord>, StoreError> {
    let row: Option<AuthorizationCodeRow> = sqlx::query_as(
        "DELETE FROM oauth_authorization_codes WHERE code_hash = $1 AND expires_at > $2 \
         RETURNING code_hash, client_id, user_id, redirect_uri, scope, code_challenge, nonce, amr, \
         auth_time, expires_at",
    )
    .bind(code_hash)
    .bind(stored_instant(now))
    .fetch_optional(pool)
    .await
    .store_context("failed to take authorization code")?;
    Ok(row.map(AuthorizationCodeRecord::from))
}

/// Puts an access token id on the revocation list; already there is fine.
pub(crate) async fn revoke_access_token(
    pool: &PgPool,
    jti: Uuid,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(jti)
    .bind(stored_instant(expires_at))
    .execute(pool)
    .await
    .store_context("failed to revoke access token")?;
    Ok(())
}

/// True when the access token id is on the revocation list.
pub(crate) async fn access_token_revoked(pool: &PgPool, jti: Uuid) -> Result<bool, StoreError> {
    let revoked: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1)")
            .bind(jti)
            .fetch_one(pool)
            .await
            .store_context("failed to read revoked access token")?;
    Ok(revoked)
}

impl OAuthStore for PostgresEngine {
    async fn insert_client(
        &self,
        client: &ClientRecord,
        service_user: Option<&UserRecord>,
    ) -> Result<(), StoreError> {
        insert_client(&self.pool, client, service_user).await
    }

    async fn find_client(&self, id: ClientId) -> Result<Option<ClientRecord>, StoreError> {
        find_client(&self.pool, id).await
    }

    async fn insert_authorization_code(
        &self,
        code: &AuthorizationCodeRecord,
    ) -> Result<(), StoreError> {
        insert_code(&self.pool, code).await
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCodeRecord>, StoreError> {
        take_code(&self.pool, code_hash, now).await
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        refresh::insert(&self.pool, token).await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &RefreshTokenRecord,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        refresh::rotate(&self.pool, presented_hash, next, now).await
    }

    async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenState>, StoreError> {
        refresh::find(&self.pool, token_hash).await
    }

    async fn revoke_refresh_family(
        &self,
        family_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_family(&self.pool, family_id, now).await
    }

    async fn revoke_user_refresh_families(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_user_families(&self.pool, user_id, now).await
    }

    async fn revoke_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        revoke_access_token(&self.pool, jti, expires_at).await
    }

    async fn access_token_revoked(&self, jti: Uuid) -> Result<bool, StoreError> {
        access_token_revoked(&self.pool, jti).await
    }
}
