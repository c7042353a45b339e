//! Opening and migrating a SQLite database.

use coffre_app::ports::Store;
use coffre_store_sqlite::SqliteStore;

#[tokio::test]
async fn connect_creates_the_database_and_its_directory_in_wal_mode() -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let path = directory
        .path()
        .join("not")
        .join("yet")
        .join("coffre.sqlite3");
    let url = format!("sqlite://{}", path.display());

    let store = SqliteStore::connect(&url).await?;
    store.migrate().await?;
    store.ping().await?;

    assert!(path.is_file(), "the database file was not created");
    let wal = path.with_file_name("coffre.sqlite3-wal");
    assert!(wal.is_file(), "the database is not in WAL mode");
    Ok(())
}

#[tokio::test]
async fn migrating_twice_changes_nothing_and_a_reopened_database_keeps_its_rows()
-> anyhow::Result<()> {
    let (url, _directory) = coffre_store_tests::fresh_sqlite_url().await?;
    let store = SqliteStore::connect(&url).await?;
    store.migrate().await?;
    let customer =
        coffre_store_tests::contract::fixtures::insert_customer(&store, "Persistent", "Customer")
            .await?;
    drop(store);

    let reopened = SqliteStore::connect(&url).await?;
    reopened.migrate().await?;
    assert_eq!(reopened.get_customer(customer.id).await?, customer);
    Ok(())
}

#[tokio::test]
async fn an_in_memory_database_is_refused() {
    // Two pools would each get their own, empty database.
    assert!(SqliteStore::connect("sqlite::memory:").await.is_err());
    assert!(
        SqliteStore::connect("sqlite://coffre?mode=memory")
            .await
            .is_err()
    );
}
