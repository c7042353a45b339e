//! The repository contract suite, run against PostgreSQL: one test per contract function, each
//! on a fresh database of a throwaway server that the test process starts (and the harness
//! stops) by itself.

use coffre_store_postgres::PostgresStore;

/// A migrated store on a new database.
async fn fresh_store() -> anyhow::Result<(PostgresStore, ())> {
    let url = coffre_store_tests::fresh_database_url().await?;
    let store = PostgresStore::connect(&url).await?;
    store.migrate().await?;
    Ok((store, ()))
}

coffre_store_tests::contract_tests!(fresh_store);
