//! The clients, users, codes and hashes the OAuth contract stores.

use coffre_app::ports::{AuthorizationCodeRecord, ClientRecord, Storage, UserRecord};
use coffre_domain::oauth::{ClientId, ClientType, GrantType, OAuthClient, Scopes};
use coffre_domain::{Role, UserId};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::contract::fixtures;

/// A hex SHA-256-shaped hash never handed out before in this process.
pub(super) fn unique_hash() -> String {
    format!("{:064x}", fixtures::unique_number())
}

/// A registration with every field set: two redirect URIs, three grants, three scopes.
pub(super) fn client(
    client_type: ClientType,
    first_party: bool,
    service_user: Option<UserId>,
) -> anyhow::Result<ClientRecord> {
    let confidential = client_type == ClientType::Confidential;
    Ok(ClientRecord {
        client: OAuthClient {
            id: ClientId(Uuid::now_v7()),
            name: "Budget app".to_owned(),
            client_type,
            redirect_uris: vec![
                "https://app.example/cb".to_owned(),
                "http://127.0.0.1:8123/cb?x=1".to_owned(),
            ],
            grants: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            scopes: Scopes::parse("openid accounts:read transactions:write")?,
            first_party,
            service_user,
            // Both values round-trip: confidential clients are resource servers here.
            introspect: confidential,
        },
        secret_hash: confidential
            .then(|| "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0$c2VjcmV0aGFzaA".to_owned()),
        created_at: fixtures::now(),
    })
}

/// A public client and a staff user to issue codes and tokens for.
pub(super) async fn client_and_user<S: Storage>(
    store: &S,
) -> anyhow::Result<(ClientRecord, UserRecord)> {
    let client = client(ClientType::Public, false, None)?;
    store.insert_client(&client, None).await?;
    let user = staff_user(store).await?;
    Ok((client, user))
}

/// Inserts a staff user with a unique username.
pub(super) async fn staff_user<S: Storage>(store: &S) -> anyhow::Result<UserRecord> {
    let username = format!("teller.{}", fixtures::unique_number());
    let user = fixtures::staff_user(&username, Role::Teller)?;
    store.insert_user(&user).await?;
    Ok(user)
}

/// An authorization code for `user` at `client`, expiring at `expires_at`.
pub(super) fn code(
    client: ClientId,
    user: UserId,
    nonce: Option<&str>,
    expires_at: OffsetDateTime,
) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord {
        code_hash: unique_hash(),
        client_id: client,
        user_id: user,
        redirect_uri: "https://app.example/cb".to_owned(),
        scope: "openid accounts:read".to_owned(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
        nonce: nonce.map(str::to_owned),
        amr: "pwd otp".to_owned(),
        auth_time: fixtures::now() - Duration::seconds(5),
        expires_at,
    }
}
