//! Login challenges: logins whose password was right, waiting for their second factor.

use anyhow::ensure;
use coffre_app::ports::{MfaChallengeRecord, PurgeCutoffs, Storage};
use coffre_domain::UserId;
use time::{Duration, OffsetDateTime};

use super::{staff_user, unique_hash};
use crate::contract::fixtures;

/// A challenge of `user_id` expiring at `expires_at`.
fn challenge(user_id: UserId, expires_at: OffsetDateTime) -> MfaChallengeRecord {
    MfaChallengeRecord {
        token_hash: unique_hash(),
        user_id,
        expires_at,
    }
}

/// A challenge is found by its token's hash, its expiry kept to the microsecond, and is
/// deleted exactly once: only one request can complete it.
pub async fn an_mfa_challenge_is_found_and_deleted_once<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let user = staff_user(store).await?;
    let expires_at = fixtures::now() + Duration::minutes(5);
    let stored = challenge(user.id, expires_at + Duration::nanoseconds(999));
    let other = challenge(user.id, expires_at);
    store.insert_mfa_challenge(&stored).await?;
    store.insert_mfa_challenge(&other).await?;

    let expected = MfaChallengeRecord {
        expires_at,
        ..stored.clone()
    };
    assert_eq!(
        store.find_mfa_challenge(&stored.token_hash).await?,
        Some(expected)
    );
    assert_eq!(store.find_mfa_challenge(&unique_hash()).await?, None);

    ensure!(
        store.delete_mfa_challenge(&stored.token_hash).await?,
        "the challenge was not there to delete"
    );
    ensure!(
        !store.delete_mfa_challenge(&stored.token_hash).await?,
        "the challenge was deleted twice"
    );
    ensure!(
        !store.delete_mfa_challenge(&unique_hash()).await?,
        "an unknown challenge was deleted"
    );
    assert_eq!(store.find_mfa_challenge(&stored.token_hash).await?, None);
    assert_eq!(
        store.find_mfa_challenge(&other.token_hash).await?,
        Some(other)
    );
    Ok(())
}

/// A purge deletes the challenges that expired at or before now, counts them, and keeps the
/// live ones.
pub async fn expired_mfa_challenges_are_purged_and_live_ones_kept<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let user = staff_user(store).await?;
    let now = fixtures::now();
    let expired = challenge(user.id, now);
    let long_expired = challenge(user.id, now - Duration::hours(1));
    let live = challenge(user.id, now + Duration::seconds(1));
    for challenge in [&expired, &long_expired, &live] {
        store.insert_mfa_challenge(challenge).await?;
    }

    let purged = store
        .purge_expired(PurgeCutoffs {
            now,
            idle_since: now - Duration::minutes(15),
            window_started: now - Duration::minutes(15),
        })
        .await?;

    assert_eq!(purged, 2, "the two expired challenges");
    assert_eq!(store.find_mfa_challenge(&expired.token_hash).await?, None);
    assert_eq!(
        store.find_mfa_challenge(&long_expired.token_hash).await?,
        None
    );
    assert_eq!(
        store.find_mfa_challenge(&live.token_hash).await?,
        Some(live)
    );
    Ok(())
}
