//! Accounts: round trips, uniqueness, listing, and updates under lock.

use anyhow::ensure;
use coffre_app::pagination::PageRequest;
use coffre_app::ports::{AccountFilter, ConflictKind, Storage, StoreError};
use coffre_domain::{
    Account, AccountId, AccountStatus, AccountType, Currency, Customer, CustomerId, KycStatus,
};
use uuid::Uuid;

use super::fixtures::{self, ClosureError};

/// The account `build` makes is stored with every field, and `build` sees the customer as
/// stored (with its current KYC status).
pub async fn account_round_trips<S: Storage>(store: &S) -> anyhow::Result<()> {
    let mut customer = fixtures::customer("Mary", "Jackson")?;
    customer.kyc_status = KycStatus::Verified;
    store
        .insert_customer(
            &customer,
            &fixtures::customer_user(&customer)?,
            fixtures::ACTOR,
        )
        .await?;
    let mut account = fixtures::account(customer.id, AccountType::Courant, AccountStatus::Active)?;
    account.currency = Currency::JPY;
    account.status_reason = Some("opened at the counter".to_owned());
    account.balance_minor = -1_500;
    account.overdraft_limit_minor = 50_000;
    account.version = 3;
    account.created_at = time::macros::datetime!(2026-11-21 10:00:00.123_456_789 UTC);

    let expected_customer = customer.clone();
    let to_insert = account.clone();
    let inserted = store
        .insert_account(customer.id, fixtures::ACTOR, move |seen: &Customer| {
            if *seen != expected_customer {
                return Err(ClosureError::Refused);
            }
            Ok(to_insert)
        })
        .await
        .map_err(|e| anyhow::anyhow!("insert_account failed: {e:?}"))?;

    account.created_at = time::macros::datetime!(2026-11-21 10:00:00.123_456 UTC);
    assert_eq!(
        inserted, account,
        "insert_account returns the account as stored"
    );
    assert_eq!(store.get_account(account.id).await?, account);
    Ok(())
}

/// When `build` refuses, no account is stored and the refusal comes back as it was.
pub async fn a_refused_account_opening_stores_nothing<S: Storage>(store: &S) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Dorothy", "Vaughan").await?;
    let outcome = store
        .insert_account(customer.id, fixtures::ACTOR, |_: &Customer| {
            Err::<Account, _>(ClosureError::Refused)
        })
        .await;
    ensure!(
        matches!(outcome, Err(ClosureError::Refused)),
        "got {outcome:?}"
    );
    let filter = AccountFilter {
        customer_id: Some(customer.id),
        ..AccountFilter::default()
    };
    assert_eq!(
        store
            .list_accounts(&filter, PageRequest::new(None, None)?)
            .await?
            .total,
        0
    );
    Ok(())
}

/// Two accounts cannot share an IBAN.
pub async fn a_duplicate_iban_is_a_conflict<S: Storage>(store: &S) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Annie", "Easley").await?;
    let first = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::Active,
    )
    .await?;
    let mut second = fixtures::account(customer.id, AccountType::Epargne, AccountStatus::Active)?;
    second.iban = first.iban.clone();
    let outcome = store
        .insert_account(customer.id, fixtures::ACTOR, move |_: &Customer| {
            Ok::<_, StoreError>(second)
        })
        .await;
    ensure!(
        matches!(outcome, Err(StoreError::Conflict(ConflictKind::Iban))),
        "expected an IBAN conflict, got {outcome:?}"
    );
    Ok(())
}

/// A customer holds at most one open Livret A; once it is closed, a new one may be opened.
pub async fn a_second_open_livret_a_is_a_conflict_until_the_first_is_closed<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Livret", "Holder").await?;
    let first = fixtures::insert_account(
        store,
        customer.id,
        AccountType::LivretA,
        AccountStatus::Active,
    )
    .await?;
    let second = fixtures::account(customer.id, AccountType::LivretA, AccountStatus::PendingKyc)?;
    let retry = second.clone();
    let outcome = store
        .insert_account(customer.id, fixtures::ACTOR, move |_: &Customer| {
            Ok::<_, StoreError>(second)
        })
        .await;
    ensure!(
        matches!(outcome, Err(StoreError::Conflict(ConflictKind::LivretA))),
        "expected a Livret A conflict, got {outcome:?}"
    );
    // Another customer's Livret A is no conflict.
    let other = fixtures::insert_customer(store, "Other", "Saver").await?;
    fixtures::insert_account(store, other.id, AccountType::LivretA, AccountStatus::Active).await?;

    let now = fixtures::now();
    store
        .update_account(first.id, fixtures::ACTOR, move |account: &mut Account| {
            account.status = AccountStatus::Closed;
            account.closed_at = Some(now);
            account.version += 1;
            Ok::<_, StoreError>(())
        })
        .await?;
    let reopened = store
        .insert_account(customer.id, fixtures::ACTOR, move |_: &Customer| {
            Ok::<_, StoreError>(retry)
        })
        .await?;
    assert_eq!(reopened.status, AccountStatus::PendingKyc);
    Ok(())
}

/// Reading or updating an account that does not exist is `NotFound`.
pub async fn a_missing_account_is_not_found<S: Storage>(store: &S) -> anyhow::Result<()> {
    let missing = AccountId(Uuid::now_v7());
    ensure!(matches!(
        store.get_account(missing).await,
        Err(StoreError::NotFound)
    ));
    let outcome = store
        .update_account(missing, fixtures::ACTOR, |_: &mut Account| {
            Ok::<_, StoreError>(())
        })
        .await;
    ensure!(
        matches!(outcome, Err(StoreError::NotFound)),
        "got {outcome:?}"
    );
    Ok(())
}

/// A change with a version bump is written back, every changeable field of it; a "change"
/// without one is not, and the result is then the account as stored.
pub async fn an_account_update_is_written_back_only_when_its_version_changes<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Frances", "Allen").await?;
    let account = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::Active,
    )
    .await?;

    let unchanged = store
        .update_account(account.id, fixtures::ACTOR, |account: &mut Account| {
            account.nickname = Some("not saved".to_owned());
            Ok::<_, StoreError>(())
        })
        .await?;
    assert_eq!(unchanged, account);
    assert_eq!(store.get_account(account.id).await?, account);

    let now = fixtures::now();
    let changed = store
        .update_account(account.id, fixtures::ACTOR, move |account: &mut Account| {
            account.status = AccountStatus::Frozen;
            account.status_reason = Some("fraud investigation".to_owned());
            account.nickname = None;
            account.balance_minor = 12_345;
            account.overdraft_limit_minor = 20_000;
            account.version += 1;
            account.updated_at = now;
            Ok::<_, StoreError>(())
        })
        .await?;
    assert_eq!(changed.version, account.version + 1);
    assert_eq!(store.get_account(account.id).await?, changed);
    Ok(())
}

/// When the closure refuses, the account is unchanged even if the closure had modified it.
pub async fn a_refused_account_update_changes_nothing<S: Storage>(store: &S) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Radia", "Perlman").await?;
    let account = fixtures::insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::Active,
    )
    .await?;
    let outcome = store
        .update_account(account.id, fixtures::ACTOR, |account: &mut Account| {
            account.status = AccountStatus::Frozen;
            account.version += 1;
            Err::<(), _>(ClosureError::Refused)
        })
        .await;
    ensure!(
        matches!(outcome, Err(ClosureError::Refused)),
        "got {outcome:?}"
    );
    assert_eq!(store.get_account(account.id).await?, account);
    Ok(())
}

/// The account list's filter cases over the accounts inserted by
/// [`accounts_are_listed_newest_first_with_filters`], with the indexes each must match.
fn account_filter_cases(alice: CustomerId, bob: CustomerId) -> Vec<(AccountFilter, Vec<usize>)> {
    let filter = |customer_id, account_type, status| AccountFilter {
        customer_id,
        account_type,
        status,
    };
    vec![
        (AccountFilter::default(), vec![0, 1, 2, 3, 4]),
        (filter(Some(alice), None, None), vec![0, 1, 3]),
        (filter(None, Some(AccountType::Courant), None), vec![0, 2]),
        (filter(None, None, Some(AccountStatus::Active)), vec![0, 4]),
        (
            filter(
                Some(bob),
                Some(AccountType::Epargne),
                Some(AccountStatus::Active),
            ),
            vec![4],
        ),
        (filter(Some(bob), Some(AccountType::LivretA), None), vec![]),
    ]
}

/// Accounts are listed newest first, filtered by owner, type and status, with the total.
pub async fn accounts_are_listed_newest_first_with_filters<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let alice = fixtures::insert_customer(store, "Alice", "Filter").await?;
    let bob = fixtures::insert_customer(store, "Bob", "Filter").await?;
    let mut inserted = Vec::new();
    for (owner, account_type, status) in [
        (alice.id, AccountType::Courant, AccountStatus::Active),
        (alice.id, AccountType::LivretA, AccountStatus::PendingKyc),
        (bob.id, AccountType::Courant, AccountStatus::Frozen),
        (alice.id, AccountType::Epargne, AccountStatus::Closed),
        (bob.id, AccountType::Epargne, AccountStatus::Active),
    ] {
        inserted.push(fixtures::insert_account(store, owner, account_type, status).await?);
    }
    for (filter, expected) in account_filter_cases(alice.id, bob.id) {
        let page = store
            .list_accounts(&filter, PageRequest::new(None, None)?)
            .await?;
        let ids: Vec<_> = page.items.iter().map(|a| a.id).collect();
        let expected_ids: Vec<_> = expected.iter().rev().map(|&i| inserted[i].id).collect();
        assert_eq!(
            (page.total, ids),
            (expected.len() as u64, expected_ids),
            "{filter:?}"
        );
    }
    let all = store
        .list_accounts(&AccountFilter::default(), PageRequest::new(None, None)?)
        .await?;
    assert_eq!(
        all.items.first(),
        inserted.last(),
        "listed accounts carry every field"
    );
    Ok(())
}

/// Account pages are cut from the newest-first order; past the end, a page is empty.
pub async fn account_pages_follow_the_order_and_count_every_match<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let customer = fixtures::insert_customer(store, "Paging", "Accounts").await?;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            fixtures::insert_account(
                store,
                customer.id,
                AccountType::Courant,
                AccountStatus::Active,
            )
            .await?
            .id,
        );
    }
    ids.reverse();
    let filter = AccountFilter {
        customer_id: Some(customer.id),
        ..AccountFilter::default()
    };
    let mut seen = Vec::new();
    for page_number in 1..=3 {
        let page = store
            .list_accounts(&filter, PageRequest::new(Some(page_number), Some(2))?)
            .await?;
        assert_eq!(page.total, 5);
        seen.extend(page.items.iter().map(|a| a.id));
    }
    assert_eq!(seen, ids);
    let beyond = store
        .list_accounts(&filter, PageRequest::new(Some(9), Some(2))?)
        .await?;
    assert_eq!((beyond.total, beyond.items.len()), (5, 0));
    Ok(())
}
