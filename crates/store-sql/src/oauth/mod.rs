//! The OAuth2 authorization server's rows: clients, authorization codes and revoked access
//! tokens here, refresh token families in [`refresh`].

mod refresh;
mod rows;

use coffre_app::ports::{
    AuthorizationCodeRecord, ClientRecord, OAuthStore, RefreshTokenRecord, RefreshTokenState,
    Rotation, StoreError, UserRecord,
};
use coffre_domain::UserId;
use coffre_domain::oauth::ClientId;
use sqlx::{Database, Encode, FromRow, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use self::rows::{
    AuthorizationCodeRow, ClientRow, RefreshTokenRow, client_record, grant_names, normalise_client,
    normalise_code,
};
use crate::engine::{Engine, StoreContext};
use crate::logins::insert_user_row;
use crate::store::SqlStore;

impl<E: Engine> OAuthStore for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Uuid>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<&'q str>: Encode<'q, E::Db> + Type<E::Db>,
    String: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    bool: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (bool,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    (Uuid,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    ClientRow<E::TextList>: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    AuthorizationCodeRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    RefreshTokenRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Inserts a client and its service user, if any, in one transaction: both exist, or
    /// neither.
    async fn insert_client(
        &self,
        record: &ClientRecord,
        service_user: Option<&UserRecord>,
    ) -> Result<(), StoreError> {
        let record = normalise_client(record.clone());
        let client = &record.client;
        let mut tx = self.engine.begin_write().await?;
        if let Some(user) = service_user {
            insert_user_row::<E>(&mut tx, user).await?;
        }
        sqlx::query(
            "INSERT INTO oauth_clients (id, name, client_type, redirect_uris, grants, scope, \
             first_party, introspect, service_user_id, secret_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(client.id.0)
        .bind(client.name.as_str())
        .bind(client.client_type.as_str())
        .bind(E::text_list(client.redirect_uris.clone()))
        .bind(E::text_list(grant_names(&client.grants)))
        .bind(client.scopes.to_string())
        .bind(client.first_party)
        .bind(client.introspect)
        .bind(client.service_user.map(|id| id.0))
        .bind(record.secret_hash.as_deref())
        .bind(E::instant(record.created_at)?)
        .execute(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to insert client")?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit client insert")
    }

    async fn find_client(&self, id: ClientId) -> Result<Option<ClientRecord>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let row: Option<ClientRow<E::TextList>> = sqlx::query_as(
            "SELECT id, name, client_type, redirect_uris, grants, scope, first_party, introspect, \
             service_user_id, secret_hash, created_at FROM oauth_clients WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read client")?;
        row.map(|row| {
            client_record(
                row.columns,
                E::text_list_items(row.redirect_uris),
                E::text_list_items(row.grants),
            )
        })
        .transpose()
    }

    async fn insert_authorization_code(
        &self,
        code: &AuthorizationCodeRecord,
    ) -> Result<(), StoreError> {
        let code = normalise_code(code.clone());
        let mut conn = self.engine.acquire_write().await?;
        sqlx::query(
            "INSERT INTO oauth_authorization_codes (code_hash, client_id, user_id, redirect_uri, \
             scope, code_challenge, nonce, amr, auth_time, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(code.code_hash.as_str())
        .bind(code.client_id.0)
        .bind(code.user_id.0)
        .bind(code.redirect_uri.as_str())
        .bind(code.scope.as_str())
        .bind(code.code_challenge.as_str())
        .bind(code.nonce.as_deref())
        .bind(code.amr.as_str())
        .bind(E::instant(code.auth_time)?)
        .bind(E::instant(code.expires_at)?)
        .execute(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to insert authorization code")?;
        Ok(())
    }

    /// Deletes and returns a code that has not expired, in one statement: of two concurrent
    /// redemptions, the second waits for the first's row lock (or the single writer) and then
    /// finds the row gone. An expired code is left for the purge.
    async fn take_authorization_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCodeRecord>, StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        let row: Option<AuthorizationCodeRow> = sqlx::query_as(
            "DELETE FROM oauth_authorization_codes WHERE code_hash = $1 AND expires_at > $2 \
             RETURNING code_hash, client_id, user_id, redirect_uri, scope, code_challenge, nonce, \
             amr, auth_time, expires_at",
        )
        .bind(code_hash)
        .bind(E::instant(now)?)
        .fetch_optional(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to take authorization code")?;
        Ok(row.map(AuthorizationCodeRecord::from))
    }

    /// Stores the first token of a new family (nobody else can know the family yet: no lock).
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        refresh::insert_row::<E>(&mut conn, token).await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &RefreshTokenRecord,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        refresh::rotate(&self.engine, presented_hash, next, now).await
    }

    /// A refresh token by hash, whatever its state.
    async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenState>, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        refresh::fetch::<E>(&mut conn, token_hash).await
    }

    async fn revoke_refresh_family(
        &self,
        family_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_family(&self.engine, family_id, now).await
    }

    async fn revoke_user_refresh_families(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_user_families(&self.engine, user_id, now).await
    }

    /// Puts an access token id on the revocation list; already there is fine.
    async fn revoke_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.engine.acquire_write().await?;
        sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(jti)
        .bind(E::instant(expires_at)?)
        .execute(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to revoke access token")?;
        Ok(())
    }

    /// True when the access token id is on the revocation list.
    async fn access_token_revoked(&self, jti: Uuid) -> Result<bool, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        let revoked: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1)",
        )
        .bind(jti)
        .fetch_one(E::conn(&mut conn))
        .await
        .store_context::<E>("failed to read revoked access token")?;
        Ok(revoked)
    }
}
