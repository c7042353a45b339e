//! The authorization endpoint's rules (RFC 6749 §4.1.1, RFC 7636, RFC 9700 §2.1): checking an
//! authorization request, and issuing the single-use code once the user has logged in and
//! consented. The pages themselves are the HTTP layer's.

use coffre_domain::oauth::{ClientId, CodeChallenge, GrantType, OAuthClient, Scopes};
use uuid::Uuid;

use crate::auth::{random_token, sha256_hex};
use crate::ports::{AuthorizationCodeRecord, Clock, Storage};
use crate::{AppError, Principal, Service};

/// An authorization request's parameters, as the query (or the login form) sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// Where to send the user back; may be left out when the client registered exactly one.
    pub redirect_uri: Option<String>,
    /// Requested scopes, space-separated (default: the client's).
    pub scope: Option<String>,
    /// Opaque value returned as is.
    pub state: Option<String>,
    /// PKCE challenge (mandatory).
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// OIDC nonce, echoed in the id token.
    pub nonce: Option<String>,
}

/// A request that checked out: what the login and consent pages show and carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAuthorization {
    /// The client.
    pub client: OAuthClient,
    /// The registered redirect URI the answer goes to.
    pub redirect_uri: String,
    /// The requested scopes (within the client's registration).
    pub scopes: Scopes,
    /// The client's `state`.
    pub state: Option<String>,
    /// The PKCE challenge.
    pub challenge: CodeChallenge,
    /// The OIDC nonce.
    pub nonce: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or its redirect URI cannot be trusted: tell the user, never redirect
    /// (RFC 6749 §4.1.2.1), or the endpoint becomes an open redirector.
    NoRedirect(String),
    /// Anything else goes back to the client's redirect URI as `error=...`.
    Redirect {
        /// Where.
        redirect_uri: String,
        /// The RFC 6749 §4.1.2.1 error code.
        error: &'static str,
        /// For the developer.
        description: String,
        /// The client's `state`, returned.
        state: Option<String>,
    },
    /// A failure of Coffre itself.
    App(AppError),
}

impl From<AppError> for AuthorizeError {
    fn from(error: AppError) -> Self {
        AuthorizeError::App(error)
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Checks an authorization request. The client and redirect URI are checked first: until
    /// they are known good, errors are shown, not redirected.
    pub async fn check_authorization(
        &self,
        request: &AuthorizationRequest,
    ) -> Result<ValidAuthorization, AuthorizeError> {
        let client = match request.client_id.as_deref().map(Uuid::parse_str) {
            Some(Ok(id)) => self
                .store
                .find_client(ClientId(id))
                .await
                .map_err(AppError::from)?,
            _ => None,
        };
        let Some(client) = client.map(|record| record.client) else {
            return Err(AuthorizeError::NoRedirect(
                "unknown or missing client_id".to_owned(),
            ));
        };
        let redirect_uri = match (&request.redirect_uri, client.redirect_uris.as_slice()) {
            (Some(uri), _) if client.has_redirect_uri(uri) => uri.clone(),
            (None, [only]) => only.clone(),
            _ => {
                return Err(AuthorizeError::NoRedirect(
                    "redirect_uri is not one the client registered".to_owned(),
                ));
            }
        };
        let refuse = |error: &'static str, description: &str| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            error,
            description: description.to_owned(),
            state: request.state.clone(),
        };
        if request.response_type.as_deref() != Some("code") {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        if !client.allows(GrantType::AuthorizationCode) {
            return Err(refuse(
                "unauthorized_client",
                "the client may not use the authorization code grant",
            ));
        }
        let challenge = CodeChallenge::parse(
            request.code_challenge.as_deref(),
            request.code_challenge_method.as_deref(),
        )
        .map_err(|error| refuse("invalid_request", &error.to_string()))?;
        let scopes = match &request.scope {
            Some(text) => {
                Scopes::parse(text).map_err(|error| refuse("invalid_scope", &error.to_string()))?
            }
            None => client.scopes.clone(),
        };
        if !scopes.is_subset(&client.scopes) {
            return Err(refuse(
                "invalid_scope",
                "the client is not registered for every requested scope",
            ));
        }
        Ok(ValidAuthorization {
            redirect_uri,
            scopes,
            state: request.state.clone(),
            challenge,
            nonce: request.nonce.clone(),
            client,
        })
    }

    /// Issues the code for a request the logged-in `user` approved: single use, bound to the
    /// client, the redirect URI and the PKCE challenge, and worthless after `code_ttl`.
    pub async fn issue_authorization_code(
        &self,
        authorization: &ValidAuthorization,
        user: &Principal,
    ) -> Result<String, AppError> {
        let now = self.clock.now();
        // The code carries how and when the user signed in, for the tokens' `amr` and
        // `auth_time` (and so for step-up).
        let (amr, auth_time) = user
            .sign_in()
            .map(|(amr, at)| (amr.join(" "), at))
            .ok_or(AppError::Unauthenticated)?;
        let code = random_token();
        let record = AuthorizationCodeRecord {
            code_hash: sha256_hex(&code),
            client_id: authorization.client.id,
            user_id: user.user_id,
            redirect_uri: authorization.redirect_uri.clone(),
            scope: authorization.scopes.allowed_for(user.role).to_string(),
            code_challenge: authorization.challenge.as_str().to_owned(),
            nonce: authorization.nonce.clone(),
            amr,
            auth_time,
            expires_at: now + self.config.oauth.code_ttl,
        };
        self.store.insert_authorization_code(&record).await?;
        tracing::info!(
            event = "authorization_code_issued",
            client_id = %authorization.client.id,
            user_id = %user.user_id,
            "authorization code issued"
        );
        Ok(code)
    }
}
