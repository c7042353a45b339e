//! Minting tokens: the access token (a signed JWT), the next refresh token of a family, and the
//! id token when `openid` was granted.

use coffre_domain::oauth::{GrantType, OAuthClient, Scope, Scopes};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{OAuthError, TokenResponse};
use crate::auth::{random_token, sha256_hex};
use crate::ports::{AccessClaims, Clock, IdClaims, RefreshTokenRecord, Storage, UserRecord};
use crate::{AppError, Service};

/// Who the tokens are for and how they authenticated.
#[derive(Debug, Clone)]
pub(super) struct Grant<'a> {
    /// The client.
    pub(super) client: &'a OAuthClient,
    /// The subject.
    pub(super) user: &'a UserRecord,
    /// The scopes granted (already bounded by the client and the user's role).
    pub(super) scopes: Scopes,
    /// Authentication methods.
    pub(super) amr: Vec<String>,
    /// When the user authenticated; `None` for a service account.
    pub(super) auth_time: Option<OffsetDateTime>,
    /// The OIDC nonce of the authorization request.
    pub(super) nonce: Option<String>,
}

/// Where the refresh token goes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Refresh {
    /// No refresh token (service accounts, clients without the grant).
    None,
    /// The first token of a new family.
    NewFamily,
}

fn unix(instant: OffsetDateTime) -> i64 {
    instant.unix_timestamp()
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Signs the access token (and id token) of `grant`; stores the first refresh token of a
    /// new family when asked.
    pub(super) async fn issue_tokens(
        &self,
        grant: &Grant<'_>,
        refresh: Refresh,
    ) -> Result<TokenResponse, OAuthError> {
        let now = self.clock.now();
        let refresh_token = match refresh {
            Refresh::NewFamily if grant.client.allows(GrantType::RefreshToken) => {
                let (token, record) = self.refresh_record(grant, Uuid::now_v7(), now);
                self.store.insert_refresh_token(&record).await?;
                Some((token, record.family_id))
            }
            _ => None,
        };
        self.sign_tokens(grant, refresh_token, now)
    }

    /// The next refresh token of `family_id` and its record (stored by the caller).
    pub(super) fn refresh_record(
        &self,
        grant: &Grant<'_>,
        family_id: Uuid,
        now: OffsetDateTime,
    ) -> (String, RefreshTokenRecord) {
        let token = random_token();
        let record = RefreshTokenRecord {
            token_hash: sha256_hex(&token),
            family_id,
            client_id: grant.client.id,
            user_id: grant.user.id,
            scope: grant.scopes.to_string(),
            amr: grant.amr.join(" "),
            auth_time: grant.auth_time.unwrap_or(now),
            issued_at: now,
            expires_at: now + self.config.oauth.refresh_token_ttl,
        };
        (token, record)
    }

    /// Signs the access token and, for users granted `openid`, the id token. With a refresh
    /// token, the access token names its family (`fid`), so that revoking the family (a
    /// reused refresh token) revokes the access tokens minted with it too.
    pub(super) fn sign_tokens(
        &self,
        grant: &Grant<'_>,
        refresh_token: Option<(String, Uuid)>,
        now: OffsetDateTime,
    ) -> Result<TokenResponse, OAuthError> {
        let (refresh_token, family_id) = refresh_token.unzip();
        let policy = &self.config.oauth;
        let expires_at = now + policy.access_token_ttl;
        let claims = AccessClaims {
            iss: policy.issuer.clone(),
            sub: grant.user.id.to_string(),
            aud: policy.audience.clone(),
            exp: unix(expires_at),
            iat: unix(now),
            nbf: unix(now),
            jti: Uuid::now_v7().to_string(),
            scope: grant.scopes.to_string(),
            roles: vec![grant.user.role.as_str().to_owned()],
            amr: grant.amr.clone(),
            client_id: grant.client.id.to_string(),
            auth_time: grant.auth_time.map(unix),
            fid: family_id.map(|id| id.to_string()),
        };
        let access_token = self
            .tokens
            .sign_access_token(&claims)
            .map_err(AppError::Unknown)?;
        let id_token = match grant.auth_time {
            Some(auth_time) if grant.scopes.contains(Scope::OpenId) => {
                let claims = IdClaims {
                    iss: policy.issuer.clone(),
                    sub: grant.user.id.to_string(),
                    aud: grant.client.id.to_string(),
                    exp: unix(expires_at),
                    iat: unix(now),
                    auth_time: unix(auth_time),
                    nonce: grant.nonce.clone(),
                    amr: grant.amr.clone(),
                    preferred_username: grant
                        .scopes
                        .contains(Scope::Profile)
                        .then(|| grant.user.username.as_str().to_owned()),
                };
                Some(
                    self.tokens
                        .sign_id_token(&claims)
                        .map_err(AppError::Unknown)?,
                )
            }
            _ => None,
        };
        Ok(TokenResponse {
            access_token,
            expires_in: policy.access_token_ttl.whole_seconds(),
            refresh_token,
            id_token,
            scope: grant.scopes.to_string(),
        })
    }
}
