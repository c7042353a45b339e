//! One customer's row, read and locked inside a write transaction: what a KYC decision and an
//! account opening both start from.

use coffre_app::ports::StoreError;
use coffre_domain::{Customer, CustomerId};
use coffre_store_sql::rows::CustomerRow;
use sqlx::PgConnection;

use crate::error::StoreContext;

/// Reads and locks a customer inside a transaction: `FOR UPDATE` to change it, `FOR SHARE`
/// to keep it from changing (a KYC decision) while something is added to it.
pub(crate) async fn lock(
    conn: &mut PgConnection,
    id: CustomerId,
    exclusive: bool,
) -> Result<Customer, StoreError> {
    let query = if exclusive {
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE id = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE id = $1 FOR SHARE"
        )
    };
    let row: Option<CustomerRow> = sqlx::query_as(query)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .store_context("failed to lock customer")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}
