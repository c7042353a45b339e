//! Registering clients (from the command line) and authenticating them at the token,
//! revocation and introspection endpoints.

use std::net::IpAddr;

use coffre_domain::oauth::{ClientId, ClientType, GrantType, NewClient};
use coffre_domain::{Role, UserId, Username};
use uuid::Uuid;

use super::{ClientCredentials, OAuthError, OAuthErrorCode};
use crate::auth::Attempt;
use crate::auth::{address_key, random_token};
use crate::ports::{ClientRecord, Clock, Storage, UserRecord};
use crate::{AppError, Service};

/// A client secret, shown once at registration. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(pub String);

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// A client just registered: its id and, for confidential clients, its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredClient {
    /// `client_id`.
    pub client_id: ClientId,
    /// `client_secret`, confidential clients only.
    pub client_secret: Option<ClientSecret>,
}

/// The throttle key of a client id.
fn client_key(client_id: &str) -> String {
    format!("client:{client_id}")
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Registers a client. A `client_credentials` client gets a service user with
    /// `service_role` (staff roles only), whose rights bound its tokens.
    pub async fn register_client(
        &self,
        registration: NewClient,
        service_role: Option<Role>,
    ) -> Result<RegisteredClient, AppError> {
        registration
            .validate()
            .map_err(|error| AppError::invalid("client", error))?;
        let id = ClientId(Uuid::now_v7());
        let now = self.clock.now();
        let service_user = if registration.grants.contains(&GrantType::ClientCredentials) {
            let role = service_role
                .filter(|role| *role != Role::Customer)
                .ok_or_else(|| {
                    AppError::invalid("role", "a client_credentials client needs a staff role")
                })?;
            Some(self.service_user(id, role, now).await?)
        } else {
            None
        };
        let secret = match registration.client_type {
            ClientType::Confidential => Some(random_token()),
            ClientType::Public => None,
        };
        let secret_hash = match &secret {
            Some(secret) => Some(
                self.hasher
                    .hash(secret)
                    .await
                    .map_err(AppError::from_hasher)?,
            ),
            None => None,
        };
        let record = ClientRecord {
            client: registration.into_client(id, service_user.as_ref().map(|user| user.id)),
            secret_hash,
            created_at: now,
        };
        self.store
            .insert_client(&record, service_user.as_ref())
            .await?;
        tracing::info!(client_id = %id, "OAuth client registered");
        Ok(RegisteredClient {
            client_id: id,
            client_secret: secret.map(ClientSecret),
        })
    }

    /// The user a service account acts as: `client:<id>`, with a password nobody knows.
    async fn service_user(
        &self,
        id: ClientId,
        role: Role,
        now: time::OffsetDateTime,
    ) -> Result<UserRecord, AppError> {
        let username = Username::parse(&format!("client:{id}"))
            .map_err(|error| AppError::Unknown(anyhow::Error::new(error)))?;
        let password_hash = self
            .hasher
            .hash(&random_token())
            .await
            .map_err(AppError::from_hasher)?;
        Ok(UserRecord {
            id: UserId(Uuid::now_v7()),
            username,
            password_hash,
            role,
            customer_id: None,
            created_at: now,
        })
    }

    /// Authenticates a client: a confidential client by its secret, a public one by its id
    /// alone (and it must not send a secret). Failures are throttled per client id and per
    /// address, like logins, and are all the same `invalid_client`.
    pub(crate) async fn authenticate_client(
        &self,
        credentials: &ClientCredentials,
        client_ip: Option<IpAddr>,
    ) -> Result<ClientRecord, OAuthError> {
        let now = self.clock.now();
        let keys = vec![
            (address_key(client_ip), self.config.ip_throttle),
            (
                client_key(&credentials.client_id),
                self.config.user_throttle,
            ),
        ];
        let attempt = Attempt {
            refused_event: "client_authentication_throttled",
            user_id: None,
            client_ip,
        };
        self.reserve_attempt(&keys, now, &attempt)
            .await
            .map_err(|error| OAuthError::throttled_as(OAuthErrorCode::InvalidClient, error))?;
        let record = match Uuid::parse_str(&credentials.client_id) {
            Ok(id) => self.store.find_client(ClientId(id)).await?,
            Err(_) => None,
        };
        let authenticated = match (&record, &credentials.client_secret) {
            (Some(record), Some(secret)) => match &record.secret_hash {
                Some(hash) => self
                    .hasher
                    .verify(secret, hash)
                    .await
                    .map_err(AppError::from_hasher)?,
                None => false,
            },
            (Some(record), None) => record.client.client_type == ClientType::Public,
            (None, secret) => {
                // Same work as for a known client, so timing tells nothing.
                if let Some(secret) = secret {
                    let _ = self.hasher.verify(secret, &self.dummy_hash).await;
                }
                false
            }
        };
        match record.filter(|_| authenticated) {
            Some(record) => {
                self.forgive_attempt(&client_key(&credentials.client_id), client_ip, now)
                    .await?;
                Ok(record)
            }
            None => {
                tracing::warn!(
                    event = "client_authentication_failed",
                    client_ip = client_ip.map(|ip| ip.to_string()),
                    "client authentication failed"
                );
                Err(OAuthError::invalid_client())
            }
        }
    }
}
