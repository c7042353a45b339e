//! What the paged, filtered lists of both engines compute outside their SQL: the customer
//! search text and the `LIKE` pattern that searches it, and the conversions between a page
//! request and SQL's signed integers.

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::StoreError;
use coffre_domain::Customer;
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use crate::engine::{Engine, StoreContext};
use crate::rows::convert_all;

/// A page of a filtered list, newest first, with the total: the count and the page are read
/// in one snapshot, so the total always agrees with the page. `count` and `select` are the
/// statements without their `WHERE` clause, which `push_filter` appends to both.
pub(crate) async fn counted_page<E, R, T>(
    engine: &E,
    count: &'static str,
    select: &'static str,
    push_filter: impl Fn(&mut QueryBuilder<E::Db>),
    page: PageRequest,
) -> Result<Page<T>, StoreError>
where
    E: Engine,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (i64,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    R: for<'r> FromRow<'r, <E::Db as Database>::Row> + Send + Unpin,
    T: TryFrom<R, Error = StoreError>,
{
    let offset = sql_offset(page)?;
    let mut tx = engine.begin_snapshot().await?;
    let mut counting = QueryBuilder::<E::Db>::new(count);
    push_filter(&mut counting);
    let total: i64 = counting
        .build_query_scalar()
        .fetch_one(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to count a list")?;
    let mut items = Vec::new();
    if offset < total {
        let mut selecting = QueryBuilder::<E::Db>::new(select);
        push_filter(&mut selecting);
        selecting
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(page.limit()))
            .push(" OFFSET ")
            .push_bind(offset);
        let rows: Vec<R> = selecting
            .build_query_as()
            .fetch_all(E::conn(&mut tx))
            .await
            .store_context::<E>("failed to read a list's page")?;
        items = convert_all(rows)?;
    }
    tx.commit()
        .await
        .store_context::<E>("failed to end a list's snapshot")?;
    page_of(items, total, page)
}

/// Lower-cased "first last email": what the customer list's `q` searches.
///
/// SQLite stores it in a column written with the row; PostgreSQL computes the same text in a
/// generated column (`lower(first_name || ' ' || last_name || ' ' || email)`). It lives beside
/// [`like_pattern`] because both must lower-case alike for a search to match.
pub fn search_text(customer: &Customer) -> String {
    format!(
        "{} {} {}",
        customer.first_name.as_str(),
        customer.last_name.as_str(),
        customer.email.as_str()
    )
    .to_lowercase()
}

/// `%text%` in lower case, with `LIKE`'s own wildcards in `text` escaped by a backslash (the
/// query says `ESCAPE '\'`) so that they match themselves.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The page's `OFFSET`, as the signed integer SQL binds.
pub fn sql_offset(page: PageRequest) -> Result<i64, StoreError> {
    i64::try_from(page.offset()).map_err(|error| StoreError::Unknown(error.into()))
}

/// A page from its rows and the `COUNT(*)` that SQL returns as a signed integer.
pub fn page_of<T>(items: Vec<T>, total: i64, request: PageRequest) -> Result<Page<T>, StoreError> {
    Ok(Page {
        items,
        total: u64::try_from(total).map_err(|error| StoreError::Unknown(error.into()))?,
        request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_a_search_match_themselves() {
        assert_eq!(like_pattern("Dupont"), "%dupont%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn a_negative_count_is_refused_rather_than_wrapped() -> Result<(), coffre_app::AppError> {
        let request = PageRequest::new(None, None)?;
        assert!(matches!(
            page_of(Vec::<()>::new(), -1, request),
            Err(StoreError::Unknown(_))
        ));
        assert!(matches!(page_of(vec![()], 1, request), Ok(page) if page.total == 1));
        Ok(())
    }
}
