//! The token endpoint's grants (RFC 6749 §4): authorization code with PKCE, refresh token with
//! rotation, client credentials, and the password grant for first-party clients.

use coffre_domain::oauth::{ClientType, CodeChallenge, GrantType, OAuthClient, Scopes};
use coffre_domain::{Role, UserId};

use super::issue::{Grant, Refresh};
use super::{ClientCredentials, OAuthError, OAuthErrorCode, TokenRequest, TokenResponse};
use crate::auth::{amr_list, sha256_hex};
use crate::ports::{Clock, Rotation, Storage, UserRecord};
use crate::{AppError, Service};

/// The scopes a request gets: what it asked for (or, when it asked for nothing, what the client
/// registered), which must be within the client's registration, narrowed to the user's role.
fn granted_scopes(
    client: &OAuthClient,
    requested: Option<&str>,
    role: Role,
) -> Result<Scopes, OAuthError> {
    let requested = match requested {
        Some(text) => Scopes::parse(text)
            .map_err(|error| OAuthError::new(OAuthErrorCode::InvalidScope, error.to_string()))?,
        None => client.scopes.clone(),
    };
    if !requested.is_subset(&client.scopes) {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            "the client is not registered for every requested scope",
        ));
    }
    Ok(requested.allowed_for(role))
}

/// Scopes as stored with a code or refresh token.
fn stored_scopes(text: &str) -> Result<Scopes, OAuthError> {
    Scopes::parse(text).map_err(|error| {
        OAuthError::App(AppError::Unknown(anyhow::anyhow!(
            "a stored grant has an invalid scope: {error}"
        )))
    })
}

fn required<'a>(value: Option<&'a String>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// `POST /oauth/token`: authenticates the client, then runs the grant it asked for.
    pub async fn token(&self, request: TokenRequest) -> Result<TokenResponse, OAuthError> {
        if request.grant_type.is_empty() {
            return Err(OAuthError::invalid_request("grant_type is required"));
        }
        let grant_type = GrantType::parse(&request.grant_type).ok_or_else(|| {
            OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "Coffre implements authorization_code, refresh_token, client_credentials and password",
            )
        })?;
        let record = self
            .authenticate_client(&request.client, request.client_ip)
            .await?;
        let client = &record.client;
        if !client.allows(grant_type) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                format!("the client may not use the {} grant", grant_type.as_str()),
            ));
        }
        match grant_type {
            GrantType::AuthorizationCode => self.code_grant(client, &request).await,
            GrantType::RefreshToken => {
                let presented = required(request.refresh_token.as_ref(), "refresh_token")?;
                self.refresh_grant(client, presented, request.scope.as_deref())
                    .await
            }
            GrantType::ClientCredentials => {
                self.client_credentials_grant(client, request.scope.as_deref())
                    .await
            }
            GrantType::Password => self.password_grant(client, &request).await,
        }
    }

    /// `POST /oauth/refresh`: the refresh grant for a caller that sends only the token. A public
    /// client needs nothing more; a confidential one must still authenticate (`credentials`).
    pub async fn refresh(
        &self,
        presented: &str,
        credentials: Option<ClientCredentials>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let client = match credentials {
            Some(credentials) => self.authenticate_client(&credentials, client_ip).await?,
            None => {
                let Some(state) = self
                    .store
                    .find_refresh_token(&sha256_hex(presented))
                    .await?
                else {
                    return Err(OAuthError::invalid_grant("invalid refresh token"));
                };
                let Some(record) = self.store.find_client(state.record.client_id).await? else {
                    return Err(OAuthError::invalid_grant("invalid refresh token"));
                };
                if record.client.client_type == ClientType::Confidential {
                    return Err(OAuthError::invalid_client());
                }
                record
            }
        };
        if !client.client.allows(GrantType::RefreshToken) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "the client may not use the refresh_token grant",
            ));
        }
        self.refresh_grant(&client.client, presented, None).await
    }

    async fn code_grant(
        &self,
        client: &OAuthClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let code = required(request.code.as_ref(), "code")?;
        let redirect_uri = required(request.redirect_uri.as_ref(), "redirect_uri")?;
        let verifier = required(request.code_verifier.as_ref(), "code_verifier")?;
        // Taken whatever happens next: a code is tried once, so a stolen one cannot be retried.
        let Some(code) = self
            .store
            .take_authorization_code(&sha256_hex(code), self.clock.now())
            .await?
        else {
            return Err(OAuthError::invalid_grant(
                "the code is invalid, expired or already used",
            ));
        };
        if code.client_id != client.id || code.redirect_uri != redirect_uri {
            return Err(OAuthError::invalid_grant(
                "the code was issued to another client or redirect URI",
            ));
        }
        if !CodeChallenge::from_stored(code.code_challenge.clone()).verifies(verifier) {
            return Err(OAuthError::invalid_grant(
                "the PKCE code_verifier does not match",
            ));
        }
        let user = self.grant_user(code.user_id).await?;
        let grant = Grant {
            client,
            user: &user,
            scopes: stored_scopes(&code.scope)?.allowed_for(user.role),
            amr: amr_list(&code.amr),
            auth_time: Some(code.auth_time),
            nonce: code.nonce.clone(),
        };
        self.issue_tokens(&grant, Refresh::NewFamily).await
    }

    async fn refresh_grant(
        &self,
        client: &OAuthClient,
        presented: &str,
        requested_scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let presented_hash = sha256_hex(presented);
        let Some(state) = self.store.find_refresh_token(&presented_hash).await? else {
            return Err(OAuthError::invalid_grant("invalid refresh token"));
        };
        if state.record.client_id != client.id {
            return Err(OAuthError::invalid_grant("invalid refresh token"));
        }
        let user = self.grant_user(state.record.user_id).await?;
        let mut scopes = stored_scopes(&state.record.scope)?;
        if let Some(requested) = requested_scope {
            let requested = granted_scopes(client, Some(requested), user.role)?;
            if !requested.is_subset(&scopes) {
                return Err(OAuthError::new(
                    OAuthErrorCode::InvalidScope,
                    "a refresh can only keep or narrow the granted scopes",
                ));
            }
            scopes = requested;
        }
        let grant = Grant {
            client,
            user: &user,
            scopes: scopes.allowed_for(user.role),
            amr: amr_list(&state.record.amr),
            auth_time: Some(state.record.auth_time),
            nonce: None,
        };
        let now = self.clock.now();
        let (token, next) = self.refresh_record(&grant, state.record.family_id, now);
        match self
            .store
            .rotate_refresh_token(&presented_hash, &next, now)
            .await?
        {
            Rotation::Rotated(_) => {
                self.sign_tokens(&grant, Some((token, state.record.family_id)), now)
            }
            Rotation::Reused => {
                self.revoke_family_access(state.record.family_id).await?;
                tracing::warn!(
                    event = "refresh_token_reused",
                    user_id = %user.id,
                    client_id = %client.id,
                    "a rotated refresh token was presented again: its family is revoked"
                );
                Err(OAuthError::invalid_grant(
                    "refresh token already used: every token of its grant is now revoked",
                ))
            }
            Rotation::Invalid => Err(OAuthError::invalid_grant("invalid refresh token")),
        }
    }

    async fn client_credentials_grant(
        &self,
        client: &OAuthClient,
        requested_scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(service_user) = client.service_user else {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "the client has no service account",
            ));
        };
        let user = self.grant_user(service_user).await?;
        let grant = Grant {
            client,
            user: &user,
            scopes: granted_scopes(client, requested_scope, user.role)?,
            amr: Vec::new(),
            auth_time: None,
            nonce: None,
        };
        self.issue_tokens(&grant, Refresh::None).await
    }

    async fn password_grant(
        &self,
        client: &OAuthClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.first_party {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "the password grant is for first-party clients only",
            ));
        }
        let username = required(request.username.as_ref(), "username")?;
        let password = required(request.password.as_ref(), "password")?;
        let user = match self
            .verify_credentials(username, password, request.client_ip)
            .await
        {
            Ok(user) => user,
            Err(AppError::Unauthenticated) => {
                return Err(OAuthError::invalid_grant("invalid username or password"));
            }
            Err(other) => {
                return Err(OAuthError::throttled_as(
                    OAuthErrorCode::InvalidGrant,
                    other,
                ));
            }
        };
        let amr = match self
            .second_factor(&user, request.totp_code.as_deref(), request.client_ip)
            .await
        {
            Ok(amr) => amr,
            Err(AppError::MfaRequired(requirement)) => {
                return Err(OAuthError::new(
                    OAuthErrorCode::MfaRequired,
                    format!("{requirement} (totp_code)"),
                ));
            }
            Err(other) => {
                return Err(OAuthError::throttled_as(
                    OAuthErrorCode::InvalidGrant,
                    other,
                ));
            }
        };
        let grant = Grant {
            client,
            user: &user,
            scopes: granted_scopes(client, request.scope.as_deref(), user.role)?,
            amr,
            auth_time: Some(self.clock.now()),
            nonce: None,
        };
        self.issue_tokens(&grant, Refresh::NewFamily).await
    }

    /// The user a grant is for; a user deleted since is an invalid grant.
    async fn grant_user(&self, id: UserId) -> Result<UserRecord, OAuthError> {
        self.store
            .find_user(id)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the grant's user no longer exists"))
    }
}
