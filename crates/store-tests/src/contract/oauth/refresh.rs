//! Refresh token families: rotation, replay detection and revocation.

use std::sync::Arc;

use anyhow::{Context, ensure};
use coffre_app::ports::{OAuthStore, RefreshTokenRecord, Rotation, Storage};
use coffre_domain::UserId;
use coffre_domain::oauth::ClientId;
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::records::{client_and_user, staff_user, unique_hash};
use crate::contract::fixtures;

/// How many presentations of one refresh token race against each other.
const RACERS: usize = 8;

/// The first refresh token of a new family, expiring at `expires_at`.
pub(super) fn first_token(
    client: ClientId,
    user: UserId,
    expires_at: OffsetDateTime,
) -> RefreshTokenRecord {
    let now = fixtures::now();
    RefreshTokenRecord {
        token_hash: unique_hash(),
        family_id: Uuid::now_v7(),
        client_id: client,
        user_id: user,
        scope: "openid accounts:read".to_owned(),
        amr: "pwd".to_owned(),
        auth_time: now - Duration::minutes(1),
        issued_at: now,
        expires_at,
    }
}

/// The token that replaces `token` in its family.
pub(super) fn next_token(token: &RefreshTokenRecord) -> RefreshTokenRecord {
    let now = fixtures::now();
    RefreshTokenRecord {
        token_hash: unique_hash(),
        issued_at: now,
        expires_at: now + Duration::days(30),
        ..token.clone()
    }
}

/// The state of a stored token: (used, revoked).
pub(super) async fn token_state<S: OAuthStore>(
    store: &S,
    token_hash: &str,
) -> anyhow::Result<(bool, bool)> {
    let state = store
        .find_refresh_token(token_hash)
        .await?
        .context("the refresh token is not stored")?;
    Ok((state.used, state.revoked))
}

/// A live token rotates into the next one, which is live. Presenting the used token again is
/// a replay: the whole family is revoked, so the next token, live a moment ago, is refused too.
pub async fn a_refresh_token_rotates_and_its_replay_revokes_the_family<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let (client, user) = client_and_user(store).await?;
    let now = fixtures::now();
    let first = first_token(client.client.id, user.id, now + Duration::days(30));
    store.insert_refresh_token(&first).await?;
    assert_eq!(token_state(store, &first.token_hash).await?, (false, false));

    let second = next_token(&first);
    assert_eq!(
        store
            .rotate_refresh_token(&first.token_hash, &second, now)
            .await?,
        Rotation::Rotated(first.clone())
    );
    assert_eq!(token_state(store, &first.token_hash).await?, (true, false));
    let stored = store.find_refresh_token(&second.token_hash).await?;
    assert_eq!(stored.map(|state| state.record), Some(second.clone()));
    assert_eq!(
        token_state(store, &second.token_hash).await?,
        (false, false)
    );

    let replayed_next = next_token(&first);
    assert_eq!(
        store
            .rotate_refresh_token(&first.token_hash, &replayed_next, now)
            .await?,
        Rotation::Reused
    );
    assert_eq!(
        store.find_refresh_token(&replayed_next.token_hash).await?,
        None
    );
    assert_eq!(token_state(store, &second.token_hash).await?, (false, true));
    assert_eq!(
        store
            .rotate_refresh_token(&second.token_hash, &next_token(&second), now)
            .await?,
        Rotation::Invalid,
        "the family is dead"
    );
    Ok(())
}

/// An unknown token, an expired one and one of a revoked family are refused, and presenting
/// them changes nothing; revoking a family twice is fine.
pub async fn unknown_expired_and_revoked_refresh_tokens_are_invalid<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let (client, user) = client_and_user(store).await?;
    let now = fixtures::now();
    let expired = first_token(client.client.id, user.id, now);
    let live = first_token(client.client.id, user.id, now + Duration::days(30));
    store.insert_refresh_token(&expired).await?;
    store.insert_refresh_token(&live).await?;

    let unknown = next_token(&live);
    assert_eq!(
        store
            .rotate_refresh_token(&unique_hash(), &unknown, now)
            .await?,
        Rotation::Invalid
    );
    let after_expired = next_token(&expired);
    assert_eq!(
        store
            .rotate_refresh_token(&expired.token_hash, &after_expired, now)
            .await?,
        Rotation::Invalid
    );
    assert_eq!(
        token_state(store, &expired.token_hash).await?,
        (false, false)
    );

    store.revoke_refresh_family(live.family_id, now).await?;
    store.revoke_refresh_family(live.family_id, now).await?;
    assert_eq!(
        store
            .rotate_refresh_token(&live.token_hash, &next_token(&live), now)
            .await?,
        Rotation::Invalid
    );
    assert_eq!(token_state(store, &live.token_hash).await?, (false, true));
    for never_stored in [&unknown, &after_expired] {
        assert_eq!(
            store.find_refresh_token(&never_stored.token_hash).await?,
            None
        );
    }
    Ok(())
}

/// Concurrent presentations of one live token rotate it exactly once: every other one is a
/// replay (or comes after the family was revoked), and the family ends revoked.
pub async fn concurrent_rotations_of_one_refresh_token_rotate_it_once<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let (client, user) = client_and_user(store).await?;
    let now = fixtures::now();
    let first = first_token(client.client.id, user.id, now + Duration::days(30));
    store.insert_refresh_token(&first).await?;

    // Every racer waits for all the others before presenting, so that they truly overlap.
    let start = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let store = store.clone();
        let start = Arc::clone(&start);
        let presented = first.token_hash.clone();
        let next = next_token(&first);
        racers.spawn(async move {
            start.wait().await;
            let rotation = store.rotate_refresh_token(&presented, &next, now).await;
            rotation.map(|rotation| (rotation, next))
        });
    }
    let mut rotated = Vec::new();
    let mut reused = 0;
    while let Some(outcome) = racers.join_next().await {
        match outcome.context("a rotation task failed")?? {
            (Rotation::Rotated(presented), next) => rotated.push((presented, next)),
            (Rotation::Reused, _) => reused += 1,
            (Rotation::Invalid, _) => {}
        }
    }

    ensure!(rotated.len() == 1, "rotated {} times", rotated.len());
    ensure!(reused >= 1, "no presentation was taken for a replay");
    let (presented, next) = &rotated[0];
    assert_eq!(presented, &first);
    assert_eq!(token_state(store, &next.token_hash).await?, (false, true));
    Ok(())
}

/// Revoking a user's families kills every token of theirs, in every family, and no one
/// else's.
pub async fn revoking_a_user_s_refresh_families_spares_other_users<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let (client, user) = client_and_user(store).await?;
    let other = staff_user(store).await?;
    let now = fixtures::now();
    let expires_at = now + Duration::days(30);
    let laptop = first_token(client.client.id, user.id, expires_at);
    let phone = first_token(client.client.id, user.id, expires_at);
    let others = first_token(client.client.id, other.id, expires_at);
    for token in [&laptop, &phone, &others] {
        store.insert_refresh_token(token).await?;
    }
    let phone_next = next_token(&phone);
    store
        .rotate_refresh_token(&phone.token_hash, &phone_next, now)
        .await?;

    store.revoke_user_refresh_families(user.id, now).await?;

    for token in [&laptop, &phone_next] {
        assert_eq!(
            store
                .rotate_refresh_token(&token.token_hash, &next_token(token), now)
                .await?,
            Rotation::Invalid
        );
    }
    assert_eq!(token_state(store, &phone.token_hash).await?, (true, true));
    assert_eq!(
        store
            .rotate_refresh_token(&others.token_hash, &next_token(&others), now)
            .await?,
        Rotation::Rotated(others)
    );
    Ok(())
}
