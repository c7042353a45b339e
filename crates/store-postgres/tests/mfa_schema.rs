//! The MFA migration (0004) on a database that already has sessions, and what deleting a user
//! takes with it: things the port cannot do, so raw SQL does them here.

use anyhow::Context;
use coffre_app::ports::{
    MfaChallengeRecord, MfaStore, SessionStore, StoreError, TotpRecord, UserStore,
};
use coffre_domain::Role;
use coffre_store_postgres::PostgresStore;
use coffre_store_tests::contract::fixtures;
use time::Duration;

/// The last migration before the MFA one.
const BEFORE_MFA: i64 = 3;

/// A session written before the migration that adds `amr` reads back as a password login.
#[tokio::test]
async fn sessions_from_before_the_mfa_migration_were_password_logins() -> anyhow::Result<()> {
    let url = coffre_store_tests::fresh_database_url().await?;
    let store = PostgresStore::connect(&url).await?;
    let pool = sqlx::PgPool::connect(&url).await?;
    sqlx::migrate!("./migrations")
        .run_to(BEFORE_MFA, &pool)
        .await
        .context("failed to apply the migrations before MFA")?;
    let user = fixtures::staff_user("teller.legacy", Role::Teller)?;
    store.insert_user(&user).await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token_hash, created_at, last_seen_at, \
         expires_at) VALUES ('legacy', $1, 'csrf', '2025-03-01T09:00:00Z', \
         '2025-03-01T09:00:00Z', '2999-01-01T00:00:00Z')",
    )
    .bind(user.id.0)
    .execute(&pool)
    .await?;

    store.migrate().await?;

    let found = store.find_session("legacy").await?;
    assert_eq!(
        found.map(|(session, _)| session.amr),
        Some("pwd".to_owned())
    );
    Ok(())
}

/// Deleting a user deletes their TOTP enrolment and login challenges.
#[tokio::test]
async fn deleting_a_user_deletes_their_second_factors() -> anyhow::Result<()> {
    let url = coffre_store_tests::fresh_database_url().await?;
    let store = PostgresStore::connect(&url).await?;
    store.migrate().await?;
    let user = fixtures::staff_user("teller.leaving", Role::Teller)?;
    store.insert_user(&user).await?;
    let user_id = user.id;
    store
        .update_totp(user_id, move |_| {
            Ok::<_, StoreError>(Some(TotpRecord {
                user_id,
                secret: vec![1; 20],
                confirmed_at: None,
                last_used_step: None,
                recovery_code_hashes: Vec::new(),
                created_at: fixtures::now(),
            }))
        })
        .await?;
    let challenge = MfaChallengeRecord {
        token_hash: "challenge".to_owned(),
        user_id,
        expires_at: fixtures::now() + Duration::minutes(5),
    };
    store.insert_mfa_challenge(&challenge).await?;

    let pool = sqlx::PgPool::connect(&url).await?;
    let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id.0)
        .execute(&pool)
        .await?;
    assert_eq!(deleted.rows_affected(), 1);

    assert_eq!(store.find_totp(user_id).await?, None);
    assert_eq!(store.find_mfa_challenge(&challenge.token_hash).await?, None);
    Ok(())
}
