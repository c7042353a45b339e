//! Second factors: a TOTP enrolment's life under lock here, races for one code in [`races`],
//! login challenges in [`challenges`].

mod challenges;
mod races;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::ensure;
use coffre_app::ports::{MfaStore, Storage, StoreError, TotpRecord, UserRecord};
use coffre_domain::{Role, UserId};
use time::Duration;
use uuid::Uuid;

pub use challenges::*;
pub use races::*;

use super::fixtures::{self, ClosureError};

/// A hex SHA-256-shaped hash never handed out before in this process.
fn unique_hash() -> String {
    format!("{:064x}", fixtures::unique_number())
}

/// Inserts a staff user with a unique username.
async fn staff_user<S: Storage>(store: &S) -> anyhow::Result<UserRecord> {
    let username = format!("mfa.user.{}", fixtures::unique_number());
    let user = fixtures::staff_user(&username, Role::Teller)?;
    store.insert_user(&user).await?;
    Ok(user)
}

/// A started (unconfirmed) enrolment of `user_id` with three recovery codes, created a few
/// nanoseconds past the microsecond: the store keeps the truncated instant.
fn enrolment(user_id: UserId) -> TotpRecord {
    TotpRecord {
        user_id,
        secret: (0..20).collect(),
        confirmed_at: None,
        last_used_step: None,
        recovery_code_hashes: vec![unique_hash(), unique_hash(), unique_hash()],
        created_at: fixtures::now() + Duration::nanoseconds(789),
    }
}

/// An enrolment as the store keeps it: its instants truncated to the microsecond.
fn as_stored(mut record: TotpRecord) -> TotpRecord {
    record.created_at = record.created_at.truncate_to_microsecond();
    record.confirmed_at = record.confirmed_at.map(|at| at.truncate_to_microsecond());
    record
}

/// Enrols `user_id` (who has no enrolment yet) and returns the enrolment as stored.
async fn enrol<S: MfaStore>(store: &S, user_id: UserId) -> anyhow::Result<TotpRecord> {
    let record = enrolment(user_id);
    let written = store
        .update_totp(user_id, move |current| match current {
            None => Ok(Some(record)),
            Some(_) => Err(ClosureError::Refused),
        })
        .await;
    match written {
        Ok(Some(written)) => Ok(written),
        other => anyhow::bail!("the enrolment was not stored: {other:?}"),
    }
}

/// An enrolment is created, read back exactly as written, changed and deleted, each by an
/// update under lock that sees what the previous one stored.
pub async fn a_totp_enrolment_is_created_changed_and_deleted<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let user = staff_user(store).await?;
    let other = staff_user(store).await?;
    assert_eq!(store.find_totp(user.id).await?, None);

    let started = enrolment(user.id);
    let expected = as_stored(started.clone());
    let created = store
        .update_totp(user.id, move |current| match current {
            None => Ok(Some(started)),
            Some(_) => Err(ClosureError::Refused),
        })
        .await;
    ensure!(
        matches!(&created, Ok(Some(record)) if *record == expected),
        "the created enrolment came back as {created:?}"
    );
    assert_eq!(store.find_totp(user.id).await?, Some(expected.clone()));

    let mut confirmed = expected.clone();
    confirmed.confirmed_at = Some(fixtures::now() + Duration::nanoseconds(1));
    confirmed.last_used_step = Some(58_000_000);
    confirmed.recovery_code_hashes.remove(1);
    let seen = expected.clone();
    let change = confirmed.clone();
    let changed = store
        .update_totp(user.id, move |current| {
            if current == Some(seen) {
                Ok(Some(change))
            } else {
                Err(ClosureError::Refused)
            }
        })
        .await;
    let confirmed = as_stored(confirmed);
    ensure!(
        matches!(&changed, Ok(Some(record)) if *record == confirmed),
        "the changed enrolment came back as {changed:?}"
    );
    assert_eq!(store.find_totp(user.id).await?, Some(confirmed.clone()));

    let deleted = store
        .update_totp(user.id, move |current| {
            if current == Some(confirmed) {
                Ok(None)
            } else {
                Err(ClosureError::Refused)
            }
        })
        .await;
    ensure!(
        matches!(deleted, Ok(None)),
        "the deletion came back as {deleted:?}"
    );
    assert_eq!(store.find_totp(user.id).await?, None);

    // Deleting what is not there is not an error; the other user never had anything.
    let deleted_again = store
        .update_totp(user.id, |current| {
            if current.is_none() {
                Ok(None)
            } else {
                Err(ClosureError::Refused)
            }
        })
        .await;
    ensure!(
        matches!(deleted_again, Ok(None)),
        "deleting again came back as {deleted_again:?}"
    );
    assert_eq!(store.find_totp(other.id).await?, None);
    Ok(())
}

/// An error from the closure is returned as it is and writes nothing, whether the user is
/// enrolled or not.
pub async fn a_refused_totp_update_changes_nothing<S: Storage>(store: &S) -> anyhow::Result<()> {
    let user = staff_user(store).await?;
    let stored = enrol(store, user.id).await?;
    let newcomer = staff_user(store).await?;
    for user_id in [user.id, newcomer.id] {
        let refused = store
            .update_totp(user_id, |_| {
                Err::<Option<TotpRecord>, _>(ClosureError::Refused)
            })
            .await;
        ensure!(
            matches!(refused, Err(ClosureError::Refused)),
            "expected the closure's error, got {refused:?}"
        );
    }
    assert_eq!(store.find_totp(user.id).await?, Some(stored));
    assert_eq!(store.find_totp(newcomer.id).await?, None);
    Ok(())
}

/// Updating the enrolment of a user who does not exist is `NotFound`, before the closure is
/// even called.
pub async fn a_totp_update_for_an_unknown_user_is_not_found<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let unknown = UserId(Uuid::now_v7());
    let called = Arc::new(AtomicBool::new(false));
    let record = enrolment(unknown);
    let flag = Arc::clone(&called);
    let outcome = store
        .update_totp(unknown, move |_| {
            flag.store(true, Ordering::SeqCst);
            Ok::<_, ClosureError>(Some(record))
        })
        .await;
    ensure!(
        matches!(outcome, Err(ClosureError::Store(StoreError::NotFound))),
        "expected NotFound, got {outcome:?}"
    );
    ensure!(
        !called.load(Ordering::SeqCst),
        "the closure was called for an unknown user"
    );
    assert_eq!(store.find_totp(unknown).await?, None);
    Ok(())
}

/// A closure that returns another user's enrolment is a bug the store refuses: nothing is
/// written for either user.
pub async fn a_totp_update_returning_another_user_s_enrolment_is_refused<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let user = staff_user(store).await?;
    let other = staff_user(store).await?;
    let foreign = enrolment(other.id);
    let outcome = store
        .update_totp(user.id, move |_| Ok::<_, ClosureError>(Some(foreign)))
        .await;
    ensure!(
        matches!(outcome, Err(ClosureError::Store(StoreError::Unknown(_)))),
        "expected an error, got {outcome:?}"
    );
    assert_eq!(store.find_totp(user.id).await?, None);
    assert_eq!(store.find_totp(other.id).await?, None);
    Ok(())
}
