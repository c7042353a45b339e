//! The event log refuses changes at the database level, whoever runs the SQL.

use coffre_app::ports::Housekeeping;
use coffre_store_sqlite::SqliteStore;

#[tokio::test]
async fn the_event_log_refuses_updates_and_deletes() -> anyhow::Result<()> {
    let (url, _directory) = coffre_store_tests::fresh_sqlite_url().await?;
    let store = SqliteStore::connect(&url).await?;
    store.migrate().await?;
    coffre_store_tests::contract::fixtures::insert_customer(&store, "Eve", "Tamper").await?;
    let pool = sqlx::SqlitePool::connect(&url).await?;
    let update = sqlx::query("UPDATE events SET actor = 'user:eve' WHERE sequence = 1")
        .execute(&pool)
        .await;
    assert!(update.is_err(), "{update:?}");
    let delete = sqlx::query("DELETE FROM events").execute(&pool).await;
    assert!(delete.is_err(), "{delete:?}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await?;
    assert_eq!(count, 1);
    store.ping().await?;
    Ok(())
}
