//! One customer's row, read inside a write transaction (SQLite's single writer holds the
//! database): what a KYC decision and an account opening both start from.

use coffre_app::ports::StoreError;
use coffre_domain::{Customer, CustomerId};
use coffre_store_sql::rows::CustomerRow;
use sqlx::SqliteConnection;

use crate::error::StoreContext;

/// Reads a customer on any connection (the pool, or a transaction).
pub(crate) async fn fetch(
    conn: &mut SqliteConnection,
    id: CustomerId,
) -> Result<Customer, StoreError> {
    let row: Option<CustomerRow> = sqlx::query_as(concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await
    .store_context("failed to read customer")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}
