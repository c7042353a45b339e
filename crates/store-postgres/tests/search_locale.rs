//! Customer search does not depend on the database's locale: `search_text` is lower-cased in
//! Rust, like the query and like SQLite's column, never by SQL `lower()`, which folds ASCII
//! letters only on a database whose `LC_CTYPE` is `C`.

use anyhow::{Context, ensure};
use coffre_app::pagination::PageRequest;
use coffre_app::ports::{CustomerFilter, CustomerStore, StoreError};
use coffre_domain::events::Actor;
use coffre_domain::{Account, Customer, CustomerId, PersonName};
use coffre_store_postgres::PostgresStore;
use coffre_store_tests::contract::fixtures;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// A migrated store on a new database whose collation and character classes are `C`.
async fn fresh_c_locale_store() -> anyhow::Result<PostgresStore> {
    let admin_url = coffre_store_tests::fresh_database_url().await?;
    let (server_url, admin_name) = admin_url
        .rsplit_once('/')
        .context("the harness's database URL has no database name")?;
    // The harness's names are plain identifiers (`coffre_test_<n>`), unique in this process.
    let name = format!("{admin_name}_c");
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .context("failed to connect to the harness's database")?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    )))
    .execute(&mut admin)
    .await
    .context("failed to create a C-locale database")?;
    admin
        .close()
        .await
        .context("failed to close the admin connection")?;

    let url = format!("{server_url}/{name}");
    check_lower_folds_ascii_only(&url).await?;
    let store = PostgresStore::connect(&url).await?;
    store.migrate().await?;
    Ok(store)
}

/// The premise of these tests: on this database, SQL `lower()` leaves 'É' upper case.
async fn check_lower_folds_ascii_only(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(url)
        .await
        .context("failed to connect to the C-locale database")?;
    let (ctype, lowered): (String, String) = sqlx::query_as(
        "SELECT datctype, lower('ÉLODIE') FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .context("failed to read the database's locale")?;
    conn.close()
        .await
        .context("failed to close the locale check connection")?;
    ensure!(ctype == "C", "the database's LC_CTYPE is {ctype}, not C");
    ensure!(lowered == "Élodie", "lower('ÉLODIE') is {lowered}");
    Ok(())
}

/// The ids of every customer whose search text contains `query` (in any case).
async fn search(store: &PostgresStore, query: &str) -> anyhow::Result<Vec<CustomerId>> {
    let filter = CustomerFilter {
        kyc_status: None,
        query: Some(query.to_lowercase()),
    };
    let page = store
        .list_customers(&filter, PageRequest::new(None, None)?)
        .await
        .with_context(|| format!("failed to search customers for {query}"))?;
    Ok(page.items.iter().map(|customer| customer.id).collect())
}

#[tokio::test]
async fn an_accented_name_is_found_in_any_case_on_a_c_locale_database() -> anyhow::Result<()> {
    let store = fresh_c_locale_store().await?;
    let elodie = fixtures::insert_customer(&store, "Élodie", "Dupré").await?;
    fixtures::insert_customer(&store, "Eloise", "Dupre").await?;

    for query in ["élodie", "ÉLODIE", "Élodie", "dupré", "DUPRÉ"] {
        assert_eq!(search(&store, query).await?, vec![elodie.id], "q = {query}");
    }
    Ok(())
}

#[tokio::test]
async fn a_renamed_customer_is_found_by_the_new_name_only_on_a_c_locale_database()
-> anyhow::Result<()> {
    let store = fresh_c_locale_store().await?;
    let customer = fixtures::insert_customer(&store, "Martin", "Durand").await?;

    let renamed = store
        .update_customer(
            customer.id,
            Actor::System,
            |customer: &mut Customer, _: &mut [Account]| {
                customer.first_name = PersonName::parse("Émile", "first_name")
                    .map_err(|error| StoreError::Unknown(error.into()))?;
                customer.version += 1;
                Ok::<_, StoreError>(())
            },
        )
        .await?;
    assert_eq!(renamed.first_name.as_str(), "Émile");

    assert_eq!(search(&store, "ÉMILE DURAND").await?, vec![customer.id]);
    // The e-mail address still holds the old name; "first last" only the names part.
    assert_eq!(
        search(&store, "Martin Durand").await?,
        Vec::<CustomerId>::new()
    );
    Ok(())
}
