//! Customers: insert with their login, read, list, and update under lock with their accounts.

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::{CustomerFilter, CustomerStore, StoreError, UserRecord};
use coffre_domain::events::{Actor, Event};
use coffre_domain::{Account, Customer, CustomerId};
use coffre_store_sql::listing::{like_pattern, page_of, search_text, sql_offset};
use coffre_store_sql::rows::{CustomerRow, convert_all};
use coffre_store_sql::writes::{check_updated_under_lock, customer_to_update, normalise_customer};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;

use crate::PostgresEngine;
use crate::error::StoreContext;
use crate::{accounts, customer_row, events};
use coffre_store_sql::logins::insert_user_row;

/// Inserts a customer and their login, and records the registration, in one transaction: all
/// exist, or none.
pub(crate) async fn insert(
    pool: &PgPool,
    customer: &Customer,
    user: &UserRecord,
    actor: Actor,
) -> Result<(), StoreError> {
    let mut customer = customer.clone();
    normalise_customer(&mut customer);
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin customer insert")?;
    sqlx::query(
        "INSERT INTO customers (id, first_name, last_name, email, birth_date, address_line1, address_line2, \
         address_postal_code, address_city, address_country, kyc_status, kyc_reason, version, created_at, \
         updated_at, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(customer.id.0)
    .bind(customer.first_name.as_str())
    .bind(customer.last_name.as_str())
    .bind(customer.email.as_str())
    .bind(customer.birth_date)
    .bind(&customer.address.line1)
    .bind(&customer.address.line2)
    .bind(&customer.address.postal_code)
    .bind(&customer.address.city)
    .bind(&customer.address.country)
    .bind(customer.kyc_status.as_str())
    .bind(&customer.kyc_reason)
    .bind(customer.version)
    .bind(customer.created_at)
    .bind(customer.updated_at)
    .bind(search_text(&customer))
    .execute(&mut *tx)
    .await
    .store_context("failed to insert customer")?;
    insert_user_row::<PostgresEngine>(&mut tx, user).await?;
    let registered = [Event::customer_registered(&customer)];
    events::append(&mut tx, &registered, actor, customer.created_at).await?;
    tx.commit()
        .await
        .store_context("failed to commit customer insert")
}

/// Reads a customer.
pub(crate) async fn get(pool: &PgPool, id: CustomerId) -> Result<Customer, StoreError> {
    let row: Option<CustomerRow> = sqlx::query_as(concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .store_context("failed to read customer")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Appends the filter's `WHERE` clause.
fn push_filter(query: &mut QueryBuilder<Postgres>, filter: &CustomerFilter) {
    let mut joiner = " WHERE ";
    if let Some(status) = filter.kyc_status {
        query
            .push(joiner)
            .push("kyc_status = ")
            .push_bind(status.as_str());
        joiner = " AND ";
    }
    if let Some(text) = filter.query.as_deref() {
        // A trigram GIN index serves `LIKE '%...%'` on search_text.
        query
            .push(joiner)
            .push("search_text LIKE ")
            .push_bind(like_pattern(text))
            .push(" ESCAPE '\\'");
    }
}

/// Lists customers newest first; the count and the page come from one `REPEATABLE READ`
/// snapshot, so the total always agrees with the page.
pub(crate) async fn list(
    pool: &PgPool,
    filter: &CustomerFilter,
    page: PageRequest,
) -> Result<Page<Customer>, StoreError> {
    let offset = sql_offset(page)?;
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .store_context("failed to begin customer list")?;
    let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM customers");
    push_filter(&mut count, filter);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *tx)
        .await
        .store_context("failed to count customers")?;
    let mut items = Vec::new();
    if offset < total {
        let mut select = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers"
        ));
        push_filter(&mut select, filter);
        select
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(page.limit()))
            .push(" OFFSET ")
            .push_bind(offset);
        let rows: Vec<CustomerRow> = select
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .store_context("failed to list customers")?;
        items = convert_all(rows)?;
    }
    tx.commit()
        .await
        .store_context("failed to end customer list")?;
    page_of(items, total, page)
}

/// Locks the customer, then their accounts in id order, lets `change` modify them, and writes
/// back whatever changed version, with the events that say how.
pub(crate) async fn update<E, F>(
    pool: &PgPool,
    id: CustomerId,
    actor: Actor,
    change: F,
) -> Result<Customer, E>
where
    E: From<StoreError>,
    F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), E>,
{
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin customer update")?;
    let before = customer_row::lock(&mut tx, id, true).await?;
    let accounts_before = accounts::lock_of_customer(&mut tx, id).await?;
    let mut after = before.clone();
    let mut accounts_after = accounts_before.clone();
    change(&mut after, &mut accounts_after)?;
    // Changed rows carry the change's instant, the newest of all.
    let changed_at = accounts_after
        .iter()
        .map(|account| account.updated_at)
        .fold(after.updated_at, OffsetDateTime::max);
    let mut changes = if after.version == before.version {
        Vec::new()
    } else {
        Event::customer_changes(&before, &after)
    };
    let customer = write_back(&mut tx, before, after).await?;
    changes.extend(accounts::write_back_all(&mut tx, accounts_before, accounts_after).await?);
    events::append(&mut tx, &changes, actor, changed_at).await?;
    tx.commit()
        .await
        .store_context("failed to commit customer update")?;
    Ok(customer)
}

/// Writes `after` over `before` if its version changed (see [`customer_to_update`]), and
/// returns what is now stored.
async fn write_back(
    conn: &mut PgConnection,
    before: Customer,
    after: Customer,
) -> Result<Customer, StoreError> {
    let Some(after) = customer_to_update(&before, after)? else {
        return Ok(before);
    };
    let updated = sqlx::query(
        "UPDATE customers SET first_name = $1, last_name = $2, email = $3, birth_date = $4, address_line1 = $5, \
         address_line2 = $6, address_postal_code = $7, address_city = $8, address_country = $9, kyc_status = $10, \
         kyc_reason = $11, version = $12, updated_at = $13, search_text = $14 WHERE id = $15 AND version = $16",
    )
    .bind(after.first_name.as_str())
    .bind(after.last_name.as_str())
    .bind(after.email.as_str())
    .bind(after.birth_date)
    .bind(&after.address.line1)
    .bind(&after.address.line2)
    .bind(&after.address.postal_code)
    .bind(&after.address.city)
    .bind(&after.address.country)
    .bind(after.kyc_status.as_str())
    .bind(&after.kyc_reason)
    .bind(after.version)
    .bind(after.updated_at)
    .bind(search_text(&after))
    .bind(after.id.0)
    .bind(before.version)
    .execute(conn)
    .await
    .store_context("failed to update customer")?;
    check_updated_under_lock(updated.rows_affected(), "customer", after.id)?;
    Ok(after)
}

impl CustomerStore for PostgresEngine {
    async fn insert_customer(
        &self,
        customer: &Customer,
        user: &UserRecord,
        actor: Actor,
    ) -> Result<(), StoreError> {
        insert(&self.pool, customer, user, actor).await
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Customer, StoreError> {
        get(&self.pool, id).await
    }

    async fn list_customers(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        list(&self.pool, filter, page).await
    }

    async fn update_customer<E, F>(
        &self,
        id: CustomerId,
        actor: Actor,
        change: F,
    ) -> Result<Customer, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), E> + Send + 'static,
    {
        update(&self.pool, id, actor, change).await
    }
}
