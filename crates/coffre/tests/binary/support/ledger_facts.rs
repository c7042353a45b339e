//! The books as the database holds them, read behind the server's back.

use crate::support::site::{Site, sqlite_path};

/// Per account, its balance and the sum of its postings, straight from the database; and the
/// number of transactions of a type.
pub(crate) async fn ledger_facts(
    site: &Site,
    transaction_type: &str,
) -> anyhow::Result<(Vec<(i64, i64)>, i64)> {
    const BALANCES: &str = "SELECT a.balance_minor, CAST(COALESCE((SELECT SUM(CASE WHEN p.direction = 'CREDIT' \
        THEN p.amount_minor ELSE -p.amount_minor END) FROM postings p WHERE p.account_id = a.id), 0) AS BIGINT) \
        FROM accounts a";
    match &site.database_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
            let balances: Vec<(i64, i64)> = sqlx::query_as(BALANCES).fetch_all(&mut conn).await?;
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE type = $1")
                    .bind(transaction_type)
                    .fetch_one(&mut conn)
                    .await?;
            Ok((balances, count))
        }
        None => {
            let url = format!("sqlite://{}", sqlite_path(&site.data_dir).display());
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await?;
            let balances: Vec<(i64, i64)> = sqlx::query_as(BALANCES).fetch_all(&mut conn).await?;
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE type = ?")
                .bind(transaction_type)
                .fetch_one(&mut conn)
                .await?;
            Ok((balances, count))
        }
    }
}
