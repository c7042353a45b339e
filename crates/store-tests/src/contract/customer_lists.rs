//! Customer lists: order, filters, search, pages and their counts.

use anyhow::Context;
use coffre_app::pagination::PageRequest;
use coffre_app::ports::{CustomerFilter, Storage};
use coffre_domain::{Customer, CustomerId, KycStatus};

use super::fixtures;

/// Inserts the five customers the list tests filter, oldest first.
async fn insert_listed_customers<S: Storage>(store: &S) -> anyhow::Result<Vec<Customer>> {
    let mut inserted = Vec::new();
    for (first, last, status) in [
        ("Ada", "Lovelace", KycStatus::Pending),
        ("Grace", "Hopper", KycStatus::Verified),
        ("Élodie", "Martin", KycStatus::Verified),
        ("Alan", "Turing", KycStatus::Rejected),
        ("Adèle", "Lovejoy", KycStatus::Pending),
    ] {
        let mut customer = fixtures::customer(first, last)?;
        customer.kyc_status = status;
        store
            .insert_customer(
                &customer,
                &fixtures::customer_user(&customer)?,
                fixtures::ACTOR,
            )
            .await?;
        inserted.push(customer);
    }
    Ok(inserted)
}

/// The total and the ids of the first page of customers matching `filter`.
async fn listed_ids<S: Storage>(
    store: &S,
    filter: &CustomerFilter,
) -> anyhow::Result<(u64, Vec<CustomerId>)> {
    let page = store
        .list_customers(filter, PageRequest::new(None, None)?)
        .await?;
    Ok((page.total, page.items.iter().map(|c| c.id).collect()))
}

/// What a list of `inserted[indexes]` must answer: their count, and their ids newest first.
fn expected_ids(inserted: &[Customer], indexes: &[usize]) -> (u64, Vec<CustomerId>) {
    let ids = indexes.iter().rev().map(|&i| inserted[i].id).collect();
    (indexes.len() as u64, ids)
}

/// Customers are listed newest first, with every field, filtered by KYC status (alone or with
/// a search), with the total of all matches.
pub async fn customers_are_listed_newest_first_with_filters<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let inserted = insert_listed_customers(store).await?;

    let all = CustomerFilter::default();
    assert_eq!(
        listed_ids(store, &all).await?,
        expected_ids(&inserted, &[0, 1, 2, 3, 4])
    );
    let first_page = store
        .list_customers(&all, PageRequest::new(None, None)?)
        .await?;
    assert_eq!(
        first_page.items.first(),
        inserted.last(),
        "listed customers carry every field"
    );

    let verified = CustomerFilter {
        kyc_status: Some(KycStatus::Verified),
        query: None,
    };
    assert_eq!(
        listed_ids(store, &verified).await?,
        expected_ids(&inserted, &[1, 2])
    );

    let pending_ad = CustomerFilter {
        kyc_status: Some(KycStatus::Pending),
        query: Some("ad".to_owned()),
    };
    assert_eq!(
        listed_ids(store, &pending_ad).await?,
        expected_ids(&inserted, &[0, 4])
    );
    Ok(())
}

/// The search matches a substring of the first name, last name or e-mail, whatever the case
/// of the stored names (the port hands it over in lower case), accented letters included.
pub async fn customer_search_is_a_case_insensitive_substring<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let inserted = insert_listed_customers(store).await?;
    for (query, expected) in [
        ("love", vec![0, 4]),
        ("LOVE", vec![0, 4]),
        ("élodie", vec![2]),
        ("ÉLODIE", vec![2]),
        ("hopper", vec![1]),
        ("example.org", vec![0, 1, 2, 3, 4]),
        ("nobody", vec![]),
    ] {
        let filter = CustomerFilter {
            kyc_status: None,
            query: Some(query.to_lowercase()),
        };
        assert_eq!(
            listed_ids(store, &filter).await?,
            expected_ids(&inserted, &expected),
            "q = {query}"
        );
    }
    Ok(())
}

/// Pages are cut from the newest-first order; a page past the end is empty but still counts.
pub async fn customer_pages_follow_the_order_and_count_every_match<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            fixtures::insert_customer(store, "Page", &format!("Customer{n}"))
                .await?
                .id,
        );
    }
    ids.reverse();
    let filter = CustomerFilter::default();
    let mut seen = Vec::new();
    for page_number in 1..=3 {
        let page = store
            .list_customers(&filter, PageRequest::new(Some(page_number), Some(2))?)
            .await?;
        assert_eq!(page.total, 5);
        assert_eq!(page.has_next(), page_number < 3);
        seen.extend(page.items.iter().map(|c| c.id));
    }
    assert_eq!(seen, ids);
    let beyond = store
        .list_customers(&filter, PageRequest::new(Some(4), Some(2))?)
        .await?;
    assert_eq!((beyond.total, beyond.items.len()), (5, 0));
    Ok(())
}

/// `%` and `_` in a search are plain characters, not wildcards.
pub async fn customer_search_treats_wildcards_literally<S: Storage>(
    store: &S,
) -> anyhow::Result<()> {
    fixtures::insert_customer(store, "Plain", "Name").await?;
    for query in ["%", "_", "p%n", "\\"] {
        let filter = CustomerFilter {
            kyc_status: None,
            query: Some(query.to_owned()),
        };
        let page = store
            .list_customers(&filter, PageRequest::new(None, None)?)
            .await
            .with_context(|| format!("q = {query}"))?;
        assert_eq!(page.total, 0, "q = {query}");
    }
    Ok(())
}
