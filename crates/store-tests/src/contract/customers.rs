//! Customers: round trips, uniqueness, and updates under lock with their accounts.

use anyhow::ensure;
use coffre_app::ports::{ConflictKind, Storage, StoreError};
use coffre_domain::{
    Account, AccountStatus, AccountType, Customer, CustomerId, KycDecision, KycStatus, PersonName,
    Role,
};
use time::Duration;
use uuid::Uuid;

use super::fixtures::{self, ClosureError};

/// Every field of a customer comes back as written, instants to the microsecond, and their
/// login is found by username.
pub async fn customer_round_trips<S: Storage>(store: &S) -> anyhow::Result<()> {
    let mut customer = fixtures::customer("Zoë", "Lovelace")?;
    customer.kyc_status = KycStatus::Rejected;
    customer.kyc_reason = Some("document expired".to_owned());
    customer.version = 7;
    customer.created_at -= Duration::days(3);
    let user = fixtures::customer_user(&customer)?;
    store
        .insert_customer(&customer, &user, fixtures::ACTOR)
        .await?;

    assert_eq!(store.get_customer(customer.id).await?, customer);
    let found = store.find_user_by_username(&user.username).await?;
    assert_eq!(found, Some(user));
    Ok(())
}

/// Instants are kept to the microsecond: a nanosecond part is truncated, on every engine.
pub async fn instants_are_kept_to_the_microsecond<S: Storage>(store: &S) -> anyhow::Result<()> {
    let mut customer = fixtures::customer("Ada", "Nanos")?;
    let precise = time::macros::datetime!(2026-11-21 10:00:00.123_456_789 UTC);
    customer.created_at = precise;
    customer.updated_at = precise;
    store
        .insert_customer(
            &customer,
            &fixtures::customer_user(&customer)?,
            fixtures::ACTOR,
        )
        .await?;

    let stored = store.get_customer(customer.id).await?;
    let expected = time::macros::datetime!(2026-11-21 10:00:00.123_456 UTC);
    assert_eq!((stored.created_at, stored.updated_at), (expected, expected));
    Ok(())
}

/// A second customer with the same e-mail address is a conflict, and nothing of it is stored.
pub async fn a_duplicate_email_is_a_conflict<S: Storage>(store: &S) -> anyhow::Result<()> {
    let first = fixtures::insert_customer(store, "Ada", "Lovelace").await?;
    let mut second = fixtures::customer("Ada", "Byron")?;
    second.email = first.email.clone();
    // A different username, so that only the e-mail rule can be the one broken.
    let mut login = fixtures::customer_user(&second)?;
    login.username = coffre_domain::Username::parse("someone-else@example.org")?;

    let outcome = store
        .insert_customer(&second, &login, fixtures::ACTOR)
        .await;
    ensure!(
        matches!(outcome, Err(StoreError::Conflict(ConflictKind::Email))),
        "expected an e-mail conflict, got {outcome:?}"
    );
    ensure!(matches!(
        store.get_customer(second.id).await,
        Err(StoreError::NotFound)
    ));
    Ok(())
}

/// A username that a staff user already has is a conflict, for a customer's login as for
/// another staff user; the customer is not stored without their login.
pub async fn a_duplicate_username_is_a_conflict<S: Storage>(store: &S) -> anyhow::Result<()> {
    let customer = fixtures::customer("Grace", "Hopper")?;
    store
        .insert_user(&fixtures::staff_user(
            customer.email.as_str(),
            Role::Teller,
        )?)
        .await?;

    let outcome = store
        .insert_customer(
            &customer,
            &fixtures::customer_user(&customer)?,
            fixtures::ACTOR,
        )
        .await;
    ensure!(
        matches!(outcome, Err(StoreError::Conflict(ConflictKind::Username))),
        "expected a username conflict, got {outcome:?}"
    );
    ensure!(matches!(
        store.get_customer(customer.id).await,
        Err(StoreError::NotFound)
    ));

    let outcome = store
        .insert_user(&fixtures::staff_user(customer.email.as_str(), Role::Admin)?)
        .await;
    ensure!(
        matches!(outcome, Err(StoreError::Conflict(ConflictKind::Username))),
        "expected a username conflict, got {outcome:?}"
    );
    Ok(())
}

/// Reading, updating, or opening an account for a customer that does not exist is `NotFound`.
pub async fn a_missing_customer_is_not_found<S: Storage>(store: &S) -> anyhow::Result<()> {
    let missing = CustomerId(Uuid::now_v7());
    ensure!(matches!(
        store.get_customer(missing).await,
        Err(StoreError::NotFound)
    ));
    let updated = store
        .update_customer(
            missing,
            fixtures::ACTOR,
            |_: &mut Customer, _: &mut [Account]| Ok::<_, StoreError>(()),
        )
        .await;
    ensure!(
        matches!(updated, Err(StoreError::NotFound)),
        "got {updated:?}"
    );
    let account = fixtures::account(missing, AccountType::Courant, AccountStatus::Active)?;
    let opened = store
        .insert_account(missing, fixtures::ACTOR, move |_: &Customer| {
            Ok::<_, StoreError>(account)
        })
        .await;
    ensure!(
        matches!(opened, Err(StoreError::NotFound)),
        "got {opened:?}"
    );
    ensure!(
        store
            .find_user_by_username(&coffre_domain::Username::parse("nobody")?)
            .await?
            .is_none()
    );
    Ok(())
}

/// A verified KYC decision and the activation of the customer's `PENDING_KYC` accounts land
/// together; accounts that were not changed keep their version. The accounts come in id order.
pub async fn a_kyc_verification_activates_pending_accounts_atomically<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Katherine", "Johnson").await?;
    let courant = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::PendingKyc,
    )
    .await?;
    let livret = fixtures::insert_account(
        store,
        customer.id,
        AccountType::LivretA,
        AccountStatus::PendingKyc,
    )
    .await?;
    let closed = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Epargne,
        AccountStatus::Closed,
    )
    .await?;
    let now = fixtures::now();

    // The closure refuses unless it is handed every account, in id order.
    let expected_order = vec![courant.id, livret.id, closed.id];
    let decided = store
        .update_customer(
            customer.id,
            fixtures::ACTOR,
            move |customer: &mut Customer, accounts: &mut [Account]| {
                if accounts.iter().map(|a| a.id).collect::<Vec<_>>() != expected_order {
                    return Err(ClosureError::Refused);
                }
                customer
                    .decide_kyc(
                        KycDecision::Verified,
                        Some("passport checked".to_owned()),
                        now,
                    )
                    .map_err(|_| ClosureError::Refused)?;
                for account in accounts.iter_mut() {
                    account.activate_after_kyc(now);
                }
                Ok::<_, ClosureError>(())
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("the KYC update failed: {e:?}"))?;

    assert_eq!(decided.kyc_status, KycStatus::Verified);
    assert_eq!(store.get_customer(customer.id).await?, decided);
    for pending in [&courant, &livret] {
        let stored = store.get_account(pending.id).await?;
        assert_eq!(stored.status, AccountStatus::Active);
        assert_eq!(stored.version, pending.version + 1);
        assert_eq!(stored.updated_at, now);
    }
    assert_eq!(store.get_account(closed.id).await?, closed);
    Ok(())
}

/// When the closure refuses, neither the customer nor any account changes, even if the
/// closure had already modified them.
pub async fn a_refused_customer_update_changes_nothing<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Hedy", "Lamarr").await?;
    let account = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::PendingKyc,
    )
    .await?;
    let now = fixtures::now();

    let outcome = store
        .update_customer(
            customer.id,
            fixtures::ACTOR,
            move |customer: &mut Customer, accounts: &mut [Account]| {
                customer.first_name = PersonName::parse("Changed", "first_name")
                    .map_err(|_| ClosureError::Refused)?;
                customer.version += 1;
                for account in accounts.iter_mut() {
                    account.activate_after_kyc(now);
                }
                Err::<(), _>(ClosureError::Refused)
            },
        )
        .await;

    ensure!(
        matches!(outcome, Err(ClosureError::Refused)),
        "got {outcome:?}"
    );
    assert_eq!(store.get_customer(customer.id).await?, customer);
    assert_eq!(store.get_account(account.id).await?, account);
    Ok(())
}
