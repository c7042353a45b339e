//! One customer's row, read and locked inside a write transaction: what a KYC decision and an
//! account opening both start from.

use coffre_app::ports::StoreError;
use coffre_domain::{Customer, CustomerId};
use sqlx::{Database, Encode, FromRow, Type};
use uuid::Uuid;

use crate::engine::{Engine, StoreContext};
use crate::rows::CustomerRow;
use crate::sql::RowLock;

/// Reads a customer, its row locked as asked.
pub(crate) async fn read_customer<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    id: CustomerId,
    lock: RowLock,
) -> Result<Customer, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    CustomerRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let select = concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE id = $1"
    );
    let row: Option<CustomerRow> = sqlx::query_as(lock.applied_to::<E>(select))
        .bind(id.0)
        .fetch_optional(E::conn(conn))
        .await
        .store_context::<E>("failed to read customer")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}
