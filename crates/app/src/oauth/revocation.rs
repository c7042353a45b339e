//! Token revocation (RFC 7009) and introspection (RFC 7662).

use coffre_domain::oauth::ClientType;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ClientCredentials, OAuthError, OAuthErrorCode};
use crate::auth::sha256_hex;
use crate::ports::{AccessClaims, Clock, RefreshTokenState, Storage};
use crate::{AppError, Service};

/// What introspection tells a resource server about a token. Anything not active is exactly
/// `{"active": false}`: no hint about why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// Unknown, expired, revoked, used, or not Coffre's.
    Inactive,
    /// A live access token.
    AccessToken(AccessClaims),
    /// A live refresh token.
    RefreshToken(RefreshTokenState),
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// `POST /oauth/revoke`: revokes an access token (its id, until it expires) or a refresh
    /// token (its whole family) that was issued to the calling client. Unknown tokens, and tokens
    /// of other clients, change nothing and still succeed (RFC 7009 §2.2), so the endpoint tells
    /// nobody whether a token exists.
    pub async fn revoke(
        &self,
        credentials: &ClientCredentials,
        token: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(), OAuthError> {
        let client = self
            .authenticate_client(credentials, client_ip)
            .await?
            .client;
        let now = self.clock.now();
        if let Ok(claims) = self.tokens.verify_access_token(token, now) {
            if claims.client_id == client.id.to_string() {
                self.revoke_access(&claims).await?;
            }
            return Ok(());
        }
        if let Some(state) = self.store.find_refresh_token(&sha256_hex(token)).await? {
            if state.record.client_id == client.id {
                self.store
                    .revoke_refresh_family(state.record.family_id, now)
                    .await?;
                // RFC 7009 §2.1: the access tokens of the same grant go with it.
                self.revoke_family_access(state.record.family_id).await?;
                tracing::info!(event = "refresh_family_revoked", client_id = %client.id, "refresh token family revoked");
            }
        }
        Ok(())
    }

    /// Revokes every access token minted with a refresh-token family: the family id goes on
    /// the revocation list (shared between nodes when it is Redis) for as long as the last of
    /// those tokens could live.
    pub(super) async fn revoke_family_access(&self, family_id: Uuid) -> Result<(), OAuthError> {
        let until = self.clock.now() + self.config.oauth.access_token_ttl;
        self.revocations.revoke(family_id, until).await?;
        tracing::info!(event = "token_family_access_revoked", family_id = %family_id, "access tokens of a refresh-token family revoked");
        Ok(())
    }

    /// True when an access token is revoked, by its own id or by its refresh-token family's.
    /// Claims that do not parse count as revoked.
    pub(crate) async fn access_revoked(&self, claims: &AccessClaims) -> Result<bool, AppError> {
        let Ok(jti) = Uuid::parse_str(&claims.jti) else {
            return Ok(true);
        };
        if self.revocations.is_revoked(jti).await? {
            return Ok(true);
        }
        match claims.fid.as_deref().map(Uuid::parse_str) {
            None => Ok(false),
            Some(Ok(family_id)) => Ok(self.revocations.is_revoked(family_id).await?),
            Some(Err(_)) => Ok(true),
        }
    }

    async fn revoke_access(&self, claims: &AccessClaims) -> Result<(), OAuthError> {
        let (Ok(jti), Ok(expires_at)) = (
            Uuid::parse_str(&claims.jti),
            OffsetDateTime::from_unix_timestamp(claims.exp),
        ) else {
            return Ok(());
        };
        self.revocations.revoke(jti, expires_at).await?;
        tracing::info!(event = "access_token_revoked", jti = %jti, "access token revoked");
        Ok(())
    }

    /// `POST /oauth/introspect`: for resource servers only (confidential clients registered
    /// with `--introspect`); any other client gets `invalid_client`, as RFC 7662 §2.3 answers
    /// a caller that may not introspect, so that no client can learn about others' tokens.
    pub async fn introspect(
        &self,
        credentials: &ClientCredentials,
        token: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<Introspection, OAuthError> {
        let client = self
            .authenticate_client(credentials, client_ip)
            .await?
            .client;
        if client.client_type != ClientType::Confidential || !client.introspect {
            tracing::warn!(
                event = "introspection_refused",
                client_id = %client.id,
                "a client that is not a resource server tried to introspect a token"
            );
            return Err(OAuthError::new(
                OAuthErrorCode::InvalidClient,
                "the client is not registered as a resource server (introspect)",
            ));
        }
        let now = self.clock.now();
        if let Ok(claims) = self.tokens.verify_access_token(token, now) {
            return Ok(if self.access_revoked(&claims).await? {
                Introspection::Inactive
            } else {
                Introspection::AccessToken(claims)
            });
        }
        match self.store.find_refresh_token(&sha256_hex(token)).await? {
            Some(state) if !state.used && !state.revoked && state.record.expires_at > now => {
                Ok(Introspection::RefreshToken(state))
            }
            _ => Ok(Introspection::Inactive),
        }
    }
}
