//! Customers: insert with their login, read, list, and update under lock with their accounts.

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::{CustomerFilter, CustomerStore, StoreError, UserRecord};
use coffre_domain::events::{Actor, Event};
use coffre_domain::{Account, Customer, CustomerId};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::accounts::{lock_of_customer, write_back_all};
use crate::customer_row::read_customer;
use crate::engine::{Engine, StoreContext};
use crate::events;
use crate::ledger_rows::ChainHeadRow;
use crate::listing::{counted_page, like_pattern, search_text};
use crate::logins::insert_user_row;
use crate::rows::{AccountRow, CustomerRow};
use crate::sql::RowLock;
use crate::store::SqlStore;
use crate::writes::{check_updated_under_lock, customer_to_update, normalise_customer};

/// Appends the filter's `WHERE` clause.
fn push_filter<E: Engine>(query: &mut QueryBuilder<E::Db>, filter: &CustomerFilter)
where
    String: for<'q> Encode<'q, E::Db> + Type<E::Db>,
{
    let mut joiner = " WHERE ";
    if let Some(status) = filter.kyc_status {
        query
            .push(joiner)
            .push("kyc_status = ")
            .push_bind(status.as_str().to_owned());
        joiner = " AND ";
    }
    if let Some(text) = filter.query.as_deref() {
        // On PostgreSQL a trigram GIN index serves `LIKE '%...%'` on search_text.
        query
            .push(joiner)
            .push("search_text LIKE ")
            .push_bind(like_pattern(text))
            .push(" ESCAPE '\\'");
    }
}

/// Writes `after` over `before` if its version changed (see [`customer_to_update`]), and
/// returns what is now stored.
async fn write_back<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    before: Customer,
    after: Customer,
) -> Result<Customer, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<&'q str>: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Date: for<'q> Encode<'q, E::Db> + Type<E::Db>,
{
    let Some(after) = customer_to_update(&before, after)? else {
        return Ok(before);
    };
    let updated = sqlx::query(
        "UPDATE customers SET first_name = $1, last_name = $2, email = $3, birth_date = $4, \
         address_line1 = $5, address_line2 = $6, address_postal_code = $7, address_city = $8, \
         address_country = $9, kyc_status = $10, kyc_reason = $11, version = $12, \
         updated_at = $13, search_text = $14 WHERE id = $15 AND version = $16",
    )
    .bind(after.first_name.as_str())
    .bind(after.last_name.as_str())
    .bind(after.email.as_str())
    .bind(after.birth_date)
    .bind(after.address.line1.as_str())
    .bind(after.address.line2.as_deref())
    .bind(after.address.postal_code.as_str())
    .bind(after.address.city.as_str())
    .bind(after.address.country.as_str())
    .bind(after.kyc_status.as_str())
    .bind(after.kyc_reason.as_deref())
    .bind(after.version)
    .bind(E::instant(after.updated_at)?)
    .bind(search_text(&after).as_str())
    .bind(after.id.0)
    .bind(before.version)
    .execute(E::conn(conn))
    .await
    .store_context::<E>("failed to update customer")?;
    check_updated_under_lock(E::rows_affected(&updated), "customer", after.id)?;
    Ok(after)
}

impl<E: Engine> CustomerStore for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Uuid>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<&'q str>: Encode<'q, E::Db> + Type<E::Db>,
    String: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<i64>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Date: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Date>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (i64,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    for<'q> &'q [u8]: Encode<'q, E::Db> + Type<E::Db>,
    CustomerRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    AccountRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    ChainHeadRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Inserts a customer and their login, and records the registration, in one transaction:
    /// all exist, or none.
    async fn insert_customer(
        &self,
        customer: &Customer,
        user: &UserRecord,
        actor: Actor,
    ) -> Result<(), StoreError> {
        let mut customer = customer.clone();
        normalise_customer(&mut customer);
        let mut tx = self.engine.begin_write().await?;
        sqlx::query(
            "INSERT INTO customers (id, first_name, last_name, email, birth_date, address_line1, \
             address_line2, address_postal_code, address_city, address_country, kyc_status, \
             kyc_reason, version, created_at, updated_at, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(customer.id.0)
        .bind(customer.first_name.as_str())
        .bind(customer.last_name.as_str())
        .bind(customer.email.as_str())
        .bind(customer.birth_date)
        .bind(customer.address.line1.as_str())
        .bind(customer.address.line2.as_deref())
        .bind(customer.address.postal_code.as_str())
        .bind(customer.address.city.as_str())
        .bind(customer.address.country.as_str())
        .bind(customer.kyc_status.as_str())
        .bind(customer.kyc_reason.as_deref())
        .bind(customer.version)
        .bind(E::instant(customer.created_at)?)
        .bind(E::instant(customer.updated_at)?)
        .bind(search_text(&customer).as_str())
        .execute(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to insert customer")?;
        insert_user_row::<E>(&mut tx, user).await?;
        let registered = [(Event::customer_registered(&customer), actor)];
        events::append_attributed::<E>(&mut tx, &registered, customer.created_at).await?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit customer insert")
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Customer, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        read_customer::<E>(&mut conn, id, RowLock::None).await
    }

    /// Lists customers newest first, the count and the page from one snapshot.
    async fn list_customers(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        counted_page::<E, CustomerRow, Customer>(
            &self.engine,
            "SELECT COUNT(*) FROM customers",
            concat!("SELECT ", customer_columns!(), " FROM customers"),
            |query| push_filter::<E>(query, filter),
            page,
        )
        .await
    }

    /// Locks the customer, then their accounts in id order, lets `change` modify them, and
    /// writes back whatever changed version, with the events that say how.
    async fn update_customer<Er, F>(
        &self,
        id: CustomerId,
        actor: Actor,
        change: F,
    ) -> Result<Customer, Er>
    where
        Er: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), Er> + Send + 'static,
    {
        let mut tx = self.engine.begin_write().await?;
        let before = read_customer::<E>(&mut tx, id, RowLock::Exclusive).await?;
        let accounts_before = lock_of_customer::<E>(&mut tx, id).await?;
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
        let customer = write_back::<E>(&mut tx, before, after).await?;
        changes.extend(write_back_all::<E>(&mut tx, accounts_before, accounts_after).await?);
        events::append::<E>(&mut tx, &changes, actor, changed_at).await?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit customer update")?;
        Ok(customer)
    }
}
