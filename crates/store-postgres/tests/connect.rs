//! Connecting to and migrating a PostgreSQL database.

use coffre_app::ports::CustomerStore;
use coffre_store_postgres::PostgresStore;

#[tokio::test]
async fn migrating_twice_changes_nothing_and_rows_survive_a_reconnection() -> anyhow::Result<()> {
    let url = coffre_store_tests::fresh_database_url().await?;
    let store = PostgresStore::connect(&url).await?;
    store.migrate().await?;
    let customer =
        coffre_store_tests::contract::fixtures::insert_customer(&store, "Persistent", "Customer")
            .await?;
    drop(store);

    let reconnected = PostgresStore::connect(&url).await?;
    reconnected.migrate().await?;
    assert_eq!(reconnected.get_customer(customer.id).await?, customer);
    Ok(())
}
