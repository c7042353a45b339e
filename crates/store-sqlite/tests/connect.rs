//! Opening and migrating a SQLite database.

use coffre_app::ports::{CustomerStore, Housekeeping};
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

#[tokio::test]
async fn the_database_and_its_directory_are_private_to_coffres_user() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| -> anyhow::Result<u32> {
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
    };
    let directory = tempfile::tempdir()?;
    let data = directory.path().join("data");
    let path = data.join("coffre.sqlite3");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display())).await?;
    store.migrate().await?;

    assert_eq!(mode(&data)?, 0o700);
    for file in ["coffre.sqlite3", "coffre.sqlite3-wal", "coffre.sqlite3-shm"] {
        assert_eq!(mode(&data.join(file))?, 0o600, "{file}");
    }
    drop(store);

    // A database someone opened to others is closed again at the next start.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
    SqliteStore::connect(&format!("sqlite://{}", path.display())).await?;
    assert_eq!(mode(&path)?, 0o600);
    Ok(())
}
