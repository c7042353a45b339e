//! Reading transactions with their postings, and holds, on any connection: in a ledger group's
//! transaction, or alone. A transaction's postings are inserted with it, so reading them with
//! a second statement sees them all: no snapshot is needed.

use coffre_app::ports::StoreError;
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};
use uuid::Uuid;

use crate::engine::{Engine, StoreContext};
use crate::ledger_rows::{HoldRow, PostingRow, TransactionRow, transactions_from_rows};

/// Reads the postings of transactions, and puts each transaction together.
pub(crate) async fn with_postings<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    rows: Vec<TransactionRow>,
) -> Result<Vec<Transaction>, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    PostingRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<E::Db>::new(concat!(
        "SELECT ",
        posting_columns!(),
        " FROM postings WHERE transaction_id IN ("
    ));
    let mut ids = query.separated(", ");
    for row in &rows {
        ids.push_bind(row.id());
    }
    query.push(") ORDER BY transaction_id, line");
    let postings: Vec<PostingRow> = query
        .build_query_as()
        .fetch_all(E::conn(conn))
        .await
        .store_context::<E>("failed to read postings")?;
    transactions_from_rows(rows, postings)
}

/// Reads a transaction with its postings, if it exists, on any connection.
pub async fn fetch_transaction<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    id: TransactionId,
) -> Result<Option<Transaction>, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    TransactionRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    PostingRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let row: Option<TransactionRow> = sqlx::query_as(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(E::conn(conn))
    .await
    .store_context::<E>("failed to read a transaction")?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(with_postings::<E>(conn, vec![row]).await?.pop())
}

/// Reads a hold, if it exists, on any connection.
pub async fn fetch_hold<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    id: HoldId,
) -> Result<Option<Hold>, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    HoldRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let row: Option<HoldRow> = sqlx::query_as(concat!(
        "SELECT ",
        hold_columns!(),
        " FROM holds WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(E::conn(conn))
    .await
    .store_context::<E>("failed to read a hold")?;
    row.map(Hold::try_from).transpose()
}
