//! The repository contract suite, run against SQLite: one test per contract function, each on a
//! fresh database file in its own temporary directory.

use coffre_store_sqlite::SqliteStore;

/// A migrated store on a new database file, and the directory that holds it.
async fn fresh_store() -> anyhow::Result<(SqliteStore, tempfile::TempDir)> {
    let (url, directory) = coffre_store_tests::fresh_sqlite_url().await?;
    let store = SqliteStore::connect(&url).await?;
    store.migrate().await?;
    Ok((store, directory))
}

coffre_store_tests::contract_tests!(fresh_store);
