//! Authenticating API calls that carry an access token, and the OIDC userinfo endpoint.

use coffre_domain::oauth::{ClientId, Scope, Scopes};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{AccessClaims, Clock, Storage};
use crate::principal::{Credential, TokenGrant};
use crate::{AppError, Principal, Service};

/// What `/oauth/userinfo` returns (OIDC Core §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// The subject.
    pub sub: String,
    /// The username, with the `profile` scope.
    pub preferred_username: Option<String>,
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// The caller behind a bearer access token: a token Coffre signed, unexpired, not revoked,
    /// whose user still exists. Its rights are the user's current role narrowed to the token's
    /// scopes. Every refusal is the same 401.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Principal, AppError> {
        let claims = self.verify_access_token(token)?;
        self.authenticate_access_claims(claims).await
    }

    /// The claims of an access token Coffre signed, unexpired: a local signature check, no
    /// store. It proves who the token was issued to, not that it is still usable (revocation
    /// and the user are checked by [`Service::authenticate_access_claims`]).
    pub fn verify_access_token(&self, token: &str) -> Result<AccessClaims, AppError> {
        self.tokens
            .verify_access_token(token, self.clock.now())
            .map_err(|reason| {
                tracing::info!(event = "access_token_refused", %reason, "access token refused");
                AppError::Unauthenticated
            })
    }

    /// The caller behind the claims of a verified access token (see
    /// [`Service::authenticate_bearer`]).
    pub async fn authenticate_access_claims(
        &self,
        claims: AccessClaims,
    ) -> Result<Principal, AppError> {
        let parsed = (
            Uuid::parse_str(&claims.jti),
            Uuid::parse_str(&claims.sub),
            Uuid::parse_str(&claims.client_id),
            Scopes::parse(&claims.scope),
            OffsetDateTime::from_unix_timestamp(claims.exp),
        );
        let (Ok(jti), Ok(sub), Ok(client_id), Ok(scopes), Ok(expires_at)) = parsed else {
            return Err(AppError::Unauthenticated);
        };
        if self.access_revoked(&claims).await? {
            tracing::info!(event = "revoked_token_used", %jti, "a revoked access token was presented");
            return Err(AppError::Unauthenticated);
        }
        let Some(user) = self.store.find_user(coffre_domain::UserId(sub)).await? else {
            return Err(AppError::Unauthenticated);
        };
        let auth_time = claims
            .auth_time
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok());
        Ok(Principal {
            user_id: user.id,
            role: user.role,
            customer_id: user.customer_id,
            credential: Credential::AccessToken(TokenGrant {
                jti,
                client_id: ClientId(client_id),
                scopes: scopes.allowed_for(user.role),
                amr: claims.amr,
                auth_time,
                expires_at,
            }),
        })
    }

    /// `/oauth/userinfo`: needs an access token with `openid`.
    pub async fn userinfo(&self, caller: &Principal) -> Result<UserInfo, AppError> {
        let Credential::AccessToken(grant) = &caller.credential else {
            return Err(AppError::Unauthenticated);
        };
        if !grant.scopes.contains(Scope::OpenId) {
            return Err(AppError::Forbidden);
        }
        let Some(user) = self.store.find_user(caller.user_id).await? else {
            return Err(AppError::Unauthenticated);
        };
        Ok(UserInfo {
            sub: user.id.to_string(),
            preferred_username: grant
                .scopes
                .contains(Scope::Profile)
                .then(|| user.username.as_str().to_owned()),
        })
    }
}
