//! Logins: staff users, sessions and failed-login throttling.

use anyhow::ensure;
use coffre_app::ports::{PurgeCutoffs, SessionRecord, Storage, ThrottleState, UserRecord};
use coffre_domain::{Role, UserId, Username};
use time::{Duration, OffsetDateTime};

use super::fixtures;

/// A cap on live sessions per user that these tests never reach.
const SESSION_CAP: u32 = 10;

/// The store answers.
pub async fn ping_answers<S: Storage>(store: &S) -> anyhow::Result<()> {
    store.ping().await?;
    Ok(())
}

/// A staff user round-trips, found by username and by id; an unknown username or id is
/// `None`.
pub async fn a_staff_user_round_trips<S: Storage>(store: &S) -> anyhow::Result<()> {
    let user = fixtures::staff_user("auditor.one", Role::Auditor)?;
    store.insert_user(&user).await?;
    assert_eq!(store.find_user(user.id).await?, Some(user.clone()));
    assert_eq!(store.find_user(UserId(uuid::Uuid::now_v7())).await?, None);
    assert_eq!(
        store.find_user_by_username(&user.username).await?,
        Some(user)
    );
    assert_eq!(
        store
            .find_user_by_username(&Username::parse("auditor.two")?)
            .await?,
        None
    );
    Ok(())
}

/// A session for `user`, unique by its token hash.
fn session(user: &UserRecord) -> SessionRecord {
    let now = fixtures::now();
    SessionRecord {
        token_hash: format!("{:064x}", fixtures::unique_number()),
        user_id: user.id,
        csrf_token_hash: format!("{:064x}", u64::MAX - fixtures::unique_number()),
        created_at: now,
        amr: "pwd".to_owned(),
        last_seen_at: now,
        expires_at: now + Duration::hours(8),
    }
}

/// A session is found with its user, touched, and deleted; deleting it again, or touching a
/// deleted one, is not an error.
pub async fn a_session_is_found_with_its_user_touched_and_deleted<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let customer = fixtures::customer("Session", "Owner")?;
    let user = fixtures::customer_user(&customer)?;
    store
        .insert_customer(&customer, &user, fixtures::ACTOR)
        .await?;
    let mut session = session(&user);
    store.insert_session(&session, None, SESSION_CAP).await?;

    assert_eq!(
        store.find_session(&session.token_hash).await?,
        Some((session.clone(), user.clone()))
    );

    session.last_seen_at += Duration::minutes(3);
    store
        .touch_session(&session.token_hash, session.last_seen_at)
        .await?;
    assert_eq!(
        store.find_session(&session.token_hash).await?,
        Some((session.clone(), user))
    );

    store.delete_session(&session.token_hash).await?;
    assert_eq!(store.find_session(&session.token_hash).await?, None);
    store.delete_session(&session.token_hash).await?;
    store
        .touch_session(&session.token_hash, fixtures::now())
        .await?;
    assert_eq!(store.find_session(&session.token_hash).await?, None);
    Ok(())
}

/// A new session that replaces an old one (session id rotation at login) deletes it.
pub async fn a_new_session_replaces_the_old_one<S: Storage>(store: &S) -> anyhow::Result<()> {
    let user = fixtures::staff_user("teller.rotation", Role::Teller)?;
    store.insert_user(&user).await?;
    let old = session(&user);
    let other = session(&user);
    store.insert_session(&old, None, SESSION_CAP).await?;
    store.insert_session(&other, None, SESSION_CAP).await?;

    let new = session(&user);
    store
        .insert_session(&new, Some(&old.token_hash), SESSION_CAP)
        .await?;

    ensure!(
        store.find_session(&old.token_hash).await?.is_none(),
        "the old session survived"
    );
    assert_eq!(
        store.find_session(&new.token_hash).await?,
        Some((new, user.clone()))
    );
    assert_eq!(
        store.find_session(&other.token_hash).await?,
        Some((other, user))
    );
    Ok(())
}

/// A session keeps how its user authenticated: a password session replaced, once the second
/// factor is given, by one whose `amr` says so.
pub async fn a_session_keeps_how_its_user_authenticated<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let user = fixtures::staff_user("teller.amr", Role::Teller)?;
    store.insert_user(&user).await?;
    let password = session(&user);
    store.insert_session(&password, None, SESSION_CAP).await?;
    let found = store.find_session(&password.token_hash).await?;
    assert_eq!(
        found.map(|(session, _)| session.amr),
        Some("pwd".to_owned())
    );

    let second_factor = SessionRecord {
        amr: "pwd otp mfa".to_owned(),
        ..session(&user)
    };
    store
        .insert_session(&second_factor, Some(&password.token_hash), SESSION_CAP)
        .await?;
    assert_eq!(
        store.find_session(&second_factor.token_hash).await?,
        Some((second_factor, user))
    );
    Ok(())
}

/// Unknown keys have no state; an update reads the current state, stores the next one, and
/// returns it; clearing forgets the key and only it.
pub async fn throttle_state_is_read_modified_and_cleared<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let keys = vec![
        "user:ada".to_owned(),
        "ip:192.0.2.1".to_owned(),
        "user:nobody".to_owned(),
    ];
    assert_eq!(store.throttle_states(&keys).await?, vec![None, None, None]);
    assert_eq!(store.throttle_states(&[]).await?, vec![]);

    let start = fixtures::now();
    let first = store
        .update_throttle(&keys[0], move |state| {
            let failures = state.map_or(0, |s| s.failures) + 1;
            ThrottleState {
                failures,
                window_started_at: start,
                locked_until: None,
            }
        })
        .await?;
    assert_eq!(first.failures, 1);
    let locked_until = start + Duration::minutes(15);
    let second = store
        .update_throttle(&keys[0], move |state| ThrottleState {
            failures: state.map_or(0, |s| s.failures) + 1,
            window_started_at: state.map_or(start, |s| s.window_started_at),
            locked_until: Some(locked_until),
        })
        .await?;
    let expected = ThrottleState {
        failures: 2,
        window_started_at: start,
        locked_until: Some(locked_until),
    };
    assert_eq!(second, expected);
    store
        .update_throttle(&keys[1], move |_| ThrottleState {
            failures: u32::MAX,
            window_started_at: start,
            locked_until: None,
        })
        .await?;

    let states = store.throttle_states(&keys).await?;
    assert_eq!(states[0], Some(expected));
    assert_eq!(states[1].map(|s| s.failures), Some(u32::MAX));
    assert_eq!(states[2], None);

    store.clear_throttle(&keys[0]).await?;
    store.clear_throttle("user:never-seen").await?;
    let states = store.throttle_states(&keys).await?;
    ensure!(states[0].is_none() && states[1].is_some(), "got {states:?}");
    Ok(())
}

/// A purge deletes sessions past their absolute expiry or idle too long, and throttle states
/// whose window is over and that lock nothing out; live ones stay.
pub async fn ended_sessions_and_stale_throttles_are_purged<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let user = fixtures::staff_user("teller.purge", Role::Teller)?;
    store.insert_user(&user).await?;
    let now = fixtures::now();
    let live = session(&user);
    let mut idle = session(&user);
    idle.last_seen_at = now - Duration::minutes(20);
    let mut expired = session(&user);
    expired.expires_at = now - Duration::seconds(1);
    for s in [&live, &idle, &expired] {
        store.insert_session(s, None, SESSION_CAP).await?;
    }
    let throttle = |started: OffsetDateTime, locked_until: Option<OffsetDateTime>| {
        move |_| ThrottleState {
            failures: 1,
            window_started_at: started,
            locked_until,
        }
    };
    let old = now - Duration::minutes(30);
    store
        .update_throttle("ip:stale", throttle(old, None))
        .await?;
    store
        .update_throttle("ip:recent", throttle(now, None))
        .await?;
    store
        .update_throttle(
            "user:locked",
            throttle(old, Some(now + Duration::minutes(5))),
        )
        .await?;

    let purged = store
        .purge_expired(PurgeCutoffs {
            now,
            idle_since: now - Duration::minutes(15),
            window_started: now - Duration::minutes(15),
        })
        .await?;

    assert_eq!(
        purged, 3,
        "the idle and the expired sessions, and the stale throttle"
    );
    assert!(store.find_session(&live.token_hash).await?.is_some());
    assert!(store.find_session(&idle.token_hash).await?.is_none());
    assert!(store.find_session(&expired.token_hash).await?.is_none());
    let keys = ["ip:stale", "ip:recent", "user:locked"].map(str::to_owned);
    let states = store.throttle_states(&keys).await?;
    assert_eq!(
        states.iter().map(Option::is_some).collect::<Vec<_>>(),
        [false, true, true]
    );
    Ok(())
}
