//! The OAuth2 authorization server's storage: clients, single-use authorization codes,
//! revoked access tokens and the purge here; refresh token families in [`refresh`].

mod records;
mod refresh;

use anyhow::ensure;
use coffre_app::ports::{ConflictKind, OAuthStore, PurgeCutoffs, Storage, StoreError};
use coffre_domain::Role;
use coffre_domain::oauth::{ClientId, ClientType};
use time::Duration;
use uuid::Uuid;

pub use refresh::*;
use refresh::{first_token, next_token, token_state};

use super::fixtures;
use records::{client, client_and_user, code, staff_user, unique_hash};

/// A confidential client and its service user are stored together and read back whole,
/// secret hash included; a public one has no secret; an unknown id is `None`.
pub async fn oauth_clients_round_trip_with_their_service_user<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let service_user = fixtures::staff_user("svc.reporting", Role::Auditor)?;
    let confidential = client(ClientType::Confidential, true, Some(service_user.id))?;
    store
        .insert_client(&confidential, Some(&service_user))
        .await?;
    let public = client(ClientType::Public, false, None)?;
    store.insert_client(&public, None).await?;

    let found = store.find_client(confidential.client.id).await?;
    assert_eq!(found, Some(confidential));
    ensure!(
        found.is_some_and(|record| record.secret_hash.is_some()),
        "the secret hash was lost"
    );
    assert_eq!(store.find_client(public.client.id).await?, Some(public));
    assert_eq!(
        store.find_user_by_username(&service_user.username).await?,
        Some(service_user.clone())
    );
    assert_eq!(store.find_user(service_user.id).await?, Some(service_user));
    assert_eq!(store.find_client(ClientId(Uuid::now_v7())).await?, None);
    Ok(())
}

/// A client whose service user cannot be inserted (its username is taken) is not stored
/// either: both, or neither.
pub async fn a_client_whose_service_user_is_refused_is_not_stored<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let existing = staff_user(store).await?;
    let mut service_user = fixtures::staff_user("svc.duplicate", Role::Teller)?;
    service_user.username = existing.username.clone();
    let client = client(ClientType::Confidential, false, Some(service_user.id))?;

    let refused = store.insert_client(&client, Some(&service_user)).await;
    ensure!(
        matches!(refused, Err(StoreError::Conflict(ConflictKind::Username))),
        "expected a username conflict, got {refused:?}"
    );
    assert_eq!(store.find_client(client.client.id).await?, None);
    assert_eq!(store.find_user(service_user.id).await?, None);
    Ok(())
}

/// A code is taken whole exactly once; a second redemption, or a redemption after its expiry,
/// gets nothing.
pub async fn an_authorization_code_is_taken_once_and_never_after_it_expires<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let (client, user) = client_and_user(store).await?;
    let now = fixtures::now();
    let live = code(
        client.client.id,
        user.id,
        Some("n-0S6_WzA2Mj"),
        now + Duration::seconds(60),
    );
    let without_nonce = code(client.client.id, user.id, None, now + Duration::seconds(60));
    let expired = code(client.client.id, user.id, None, now);
    for code in [&live, &without_nonce, &expired] {
        store.insert_authorization_code(code).await?;
    }

    assert_eq!(
        store.take_authorization_code(&live.code_hash, now).await?,
        Some(live.clone())
    );
    assert_eq!(
        store.take_authorization_code(&live.code_hash, now).await?,
        None
    );
    assert_eq!(
        store
            .take_authorization_code(&without_nonce.code_hash, now)
            .await?,
        Some(without_nonce)
    );
    assert_eq!(
        store
            .take_authorization_code(&expired.code_hash, now)
            .await?,
        None,
        "a code is worthless from its expiry on"
    );
    assert_eq!(
        store.take_authorization_code(&unique_hash(), now).await?,
        None
    );
    Ok(())
}

/// An access token id is not revoked until it is; revoking it again is fine.
pub async fn access_token_revocation_is_idempotent<S: OAuthStore>(store: &S) -> anyhow::Result<()> {
    let jti = Uuid::now_v7();
    let other = Uuid::now_v7();
    let expires_at = fixtures::now() + Duration::minutes(15);
    ensure!(
        !store.access_token_revoked(jti).await?,
        "revoked from the start"
    );
    store.revoke_access_token(jti, expires_at).await?;
    ensure!(store.access_token_revoked(jti).await?, "not revoked");
    store.revoke_access_token(jti, expires_at).await?;
    ensure!(store.access_token_revoked(jti).await?, "no longer revoked");
    ensure!(
        !store.access_token_revoked(other).await?,
        "another token was revoked"
    );
    Ok(())
}

/// A purge deletes the codes, refresh tokens and revocations that have expired, and keeps the
/// live ones, used refresh tokens included (their replay must still be caught).
pub async fn expired_oauth_grants_are_purged_and_live_ones_kept<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let (client, user) = client_and_user(store).await?;
    let now = fixtures::now();
    let later = now + Duration::days(1);
    let long_ago = now - Duration::days(1);
    let (client_id, user_id) = (client.client.id, user.id);
    let live_code = code(client_id, user_id, None, later);
    let expired_code = code(client_id, user_id, None, now);
    store.insert_authorization_code(&live_code).await?;
    store.insert_authorization_code(&expired_code).await?;
    let expired_token = first_token(client_id, user_id, now - Duration::seconds(1));
    let used_token = first_token(client_id, user_id, later);
    for token in [&expired_token, &used_token] {
        store.insert_refresh_token(token).await?;
    }
    let live_token = next_token(&used_token);
    store
        .rotate_refresh_token(&used_token.token_hash, &live_token, now)
        .await?;
    let (live_jti, expired_jti) = (Uuid::now_v7(), Uuid::now_v7());
    store.revoke_access_token(live_jti, later).await?;
    store.revoke_access_token(expired_jti, now).await?;

    let purged = store
        .purge_expired(PurgeCutoffs {
            now,
            idle_since: now - Duration::minutes(15),
            window_started: now - Duration::minutes(15),
        })
        .await?;

    assert_eq!(purged, 3, "the expired code, refresh token and revocation");
    // Redeeming "long ago" would still return an expired code that was kept.
    assert_eq!(
        store
            .take_authorization_code(&expired_code.code_hash, long_ago)
            .await?,
        None
    );
    assert_eq!(
        store
            .take_authorization_code(&live_code.code_hash, now)
            .await?,
        Some(live_code)
    );
    assert_eq!(
        store.find_refresh_token(&expired_token.token_hash).await?,
        None
    );
    assert_eq!(
        token_state(store, &used_token.token_hash).await?,
        (true, false)
    );
    assert_eq!(
        token_state(store, &live_token.token_hash).await?,
        (false, false)
    );
    ensure!(
        !store.access_token_revoked(expired_jti).await?,
        "the expired revocation was kept"
    );
    ensure!(
        store.access_token_revoked(live_jti).await?,
        "the live revocation was purged"
    );
    Ok(())
}
