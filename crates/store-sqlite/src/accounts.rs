//! Accounts: insert under the owner's lock, read, list, and update under lock.

use coffre_app::pagination::{Page, PageRequest};
use std::collections::BTreeSet;

use coffre_app::ports::{AccountFilter, AccountStore, StoreError};
use coffre_domain::events::{Actor, Event};
use coffre_domain::{Account, AccountId, Customer, CustomerId};
use coffre_store_sql::listing::{page_of, sql_offset};
use coffre_store_sql::rows::{AccountRow, convert_all};
use coffre_store_sql::writes::{
    account_to_insert, account_to_update, check_same_accounts, check_updated_under_lock,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use uuid::Uuid;

use crate::SqliteEngine;
use crate::customer_row;
use crate::error::StoreContext;
use crate::events::append_events;
use crate::instants::{instant_text, optional_instant_text};
use crate::multi_row::{MAX_BINDS, push_list};

/// The `accounts` columns an [`AccountRow`] reads, as a literal for `concat!`.
macro_rules! account_columns {
    () => {
        "id, customer_id, iban, bic, type, status, currency, nickname, status_reason, balance_minor, \
         overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, outgoing_day, version, \
         created_at, updated_at, closed_at"
    };
}

/// Reads an account on any connection.
async fn fetch(conn: &mut SqliteConnection, id: AccountId) -> Result<Account, StoreError> {
    let row: Option<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await
    .store_context("failed to read account")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Reads the accounts of `ids` that exist, in ascending id order (the lock order).
pub(crate) async fn fetch_existing(
    conn: &mut SqliteConnection,
    ids: &BTreeSet<AccountId>,
) -> Result<Vec<Account>, StoreError> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let mut accounts = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BINDS) {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id IN ("
        ));
        push_list(&mut query, chunk.iter().copied());
        query.push(") ORDER BY id");
        let rows: Vec<AccountRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .store_context("failed to read accounts")?;
        accounts.extend(convert_all::<_, Account>(rows)?);
    }
    Ok(accounts)
}

/// Reads every account of a customer, in id order (the order PostgreSQL locks them in).
pub(crate) async fn fetch_of_customer(
    conn: &mut SqliteConnection,
    id: CustomerId,
) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE customer_id = ? ORDER BY id"
    ))
    .bind(id.0)
    .fetch_all(conn)
    .await
    .store_context("failed to read the customer's accounts")?;
    convert_all(rows)
}

/// Reads an account.
pub(crate) async fn get(read: &SqlitePool, id: AccountId) -> Result<Account, StoreError> {
    let mut conn = read
        .acquire()
        .await
        .store_context("failed to acquire a connection")?;
    fetch(&mut conn, id).await
}

/// Reads the customer under the write lock (so that a KYC decision cannot slip in between),
/// lets `build` make the account, and inserts it.
pub(crate) async fn insert<E, F>(
    write: &SqlitePool,
    customer_id: CustomerId,
    actor: Actor,
    build: F,
) -> Result<Account, E>
where
    E: From<StoreError>,
    F: FnOnce(&Customer) -> Result<Account, E>,
{
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin account insert")?;
    let customer = customer_row::fetch(&mut tx, customer_id).await?;
    let account = account_to_insert(build(&customer)?, customer_id)?;
    sqlx::query(
        "INSERT INTO accounts (id, customer_id, iban, bic, type, status, currency, nickname, status_reason, \
         balance_minor, overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, outgoing_day, \
         version, created_at, updated_at, closed_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(account.id.0)
    .bind(account.customer_id.0)
    .bind(account.iban.electronic())
    .bind(account.bic.as_str())
    .bind(account.account_type.as_str())
    .bind(account.status.as_str())
    .bind(account.currency.code())
    .bind(&account.nickname)
    .bind(&account.status_reason)
    .bind(account.balance_minor)
    .bind(account.overdraft_limit_minor)
    .bind(account.daily_limit_minor)
    .bind(account.outgoing_today_minor)
    .bind(account.outgoing_day)
    .bind(account.version)
    .bind(instant_text(account.created_at)?)
    .bind(instant_text(account.updated_at)?)
    .bind(optional_instant_text(account.closed_at)?)
    .execute(&mut *tx)
    .await
    .store_context("failed to insert account")?;
    append_events(
        &mut tx,
        &[Event::account_created(&account)],
        actor,
        account.created_at,
    )
    .await?;
    tx.commit()
        .await
        .store_context("failed to commit account insert")?;
    Ok(account)
}

/// Appends the filter's `WHERE` clause.
fn push_filter(query: &mut QueryBuilder<Sqlite>, filter: &AccountFilter) {
    let mut joiner = " WHERE ";
    if let Some(customer_id) = filter.customer_id {
        query
            .push(joiner)
            .push("customer_id = ")
            .push_bind(customer_id.0);
        joiner = " AND ";
    }
    if let Some(account_type) = filter.account_type {
        query
            .push(joiner)
            .push("type = ")
            .push_bind(account_type.as_str());
        joiner = " AND ";
    }
    if let Some(status) = filter.status {
        query
            .push(joiner)
            .push("status = ")
            .push_bind(status.as_str());
    }
}

/// Lists accounts newest first; the count and the page come from one read transaction, hence
/// one snapshot of the WAL.
pub(crate) async fn list(
    read: &SqlitePool,
    filter: &AccountFilter,
    page: PageRequest,
) -> Result<Page<Account>, StoreError> {
    let offset = sql_offset(page)?;
    let mut tx = read
        .begin()
        .await
        .store_context("failed to begin account list")?;
    let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM accounts");
    push_filter(&mut count, filter);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *tx)
        .await
        .store_context("failed to count accounts")?;
    let mut items = Vec::new();
    if offset < total {
        let mut select =
            QueryBuilder::<Sqlite>::new(concat!("SELECT ", account_columns!(), " FROM accounts"));
        push_filter(&mut select, filter);
        select
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(page.limit()))
            .push(" OFFSET ")
            .push_bind(offset);
        let rows: Vec<AccountRow> = select
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .store_context("failed to list accounts")?;
        items = convert_all(rows)?;
    }
    tx.commit()
        .await
        .store_context("failed to end account list")?;
    page_of(items, total, page)
}

/// Locks the account (the single writer holds the database), lets `change` modify it, and
/// writes it back if its version changed.
pub(crate) async fn update<E, F>(
    write: &SqlitePool,
    id: AccountId,
    actor: Actor,
    change: F,
) -> Result<Account, E>
where
    E: From<StoreError>,
    F: FnOnce(&mut Account) -> Result<(), E>,
{
    let mut tx = write
        .begin_with("BEGIN IMMEDIATE")
        .await
        .store_context("failed to begin account update")?;
    let before = fetch(&mut tx, id).await?;
    let mut after = before.clone();
    change(&mut after)?;
    let account = write_back(&mut tx, before.clone(), after).await?;
    append_changes(&mut tx, &before, &account, actor).await?;
    tx.commit()
        .await
        .store_context("failed to commit account update")?;
    Ok(account)
}

/// Appends the events that say how an account changed (none if it did not), at the time of
/// the change.
pub(crate) async fn append_changes(
    conn: &mut SqliteConnection,
    before: &Account,
    stored: &Account,
    actor: Actor,
) -> Result<(), StoreError> {
    let events = Event::account_changes(before, stored);
    append_events(conn, &events, actor, stored.updated_at).await
}

/// Writes back each account whose version changed, and appends the events of each change;
/// the closure must not add, drop or reorder accounts.
pub(crate) async fn write_back_all(
    conn: &mut SqliteConnection,
    before: Vec<Account>,
    after: Vec<Account>,
    actor: Actor,
) -> Result<(), StoreError> {
    check_same_accounts(&before, &after)?;
    for (before, after) in before.into_iter().zip(after) {
        let stored = write_back(conn, before.clone(), after).await?;
        append_changes(conn, &before, &stored, actor).await?;
    }
    Ok(())
}

/// Writes `after` over `before` if its version changed, and returns what is now stored. Only
/// the fields an account's life changes are written: its identity is fixed at opening (see
/// [`account_to_update`]).
async fn write_back(
    conn: &mut SqliteConnection,
    before: Account,
    after: Account,
) -> Result<Account, StoreError> {
    let Some(after) = account_to_update(&before, after)? else {
        return Ok(before);
    };
    write_update(conn, before.version, &after).await?;
    Ok(after)
}

/// Writes the fields an account's life changes over the row still at `before_version` (already
/// checked by [`account_to_update`]).
pub(crate) async fn write_update(
    conn: &mut SqliteConnection,
    before_version: i64,
    after: &Account,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE accounts SET status = ?, nickname = ?, status_reason = ?, balance_minor = ?, \
         overdraft_limit_minor = ?, daily_limit_minor = ?, outgoing_today_minor = ?, outgoing_day = ?, \
         version = ?, updated_at = ?, closed_at = ? WHERE id = ? AND version = ?",
    )
    .bind(after.status.as_str())
    .bind(&after.nickname)
    .bind(&after.status_reason)
    .bind(after.balance_minor)
    .bind(after.overdraft_limit_minor)
    .bind(after.daily_limit_minor)
    .bind(after.outgoing_today_minor)
    .bind(after.outgoing_day)
    .bind(after.version)
    .bind(instant_text(after.updated_at)?)
    .bind(optional_instant_text(after.closed_at)?)
    .bind(after.id.0)
    .bind(before_version)
    .execute(conn)
    .await
    .store_context("failed to update account")?;
    check_updated_under_lock(updated.rows_affected(), "account", after.id)
}

impl AccountStore for SqliteEngine {
    async fn insert_account<E, F>(
        &self,
        customer_id: CustomerId,
        actor: Actor,
        build: F,
    ) -> Result<Account, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Customer) -> Result<Account, E> + Send + 'static,
    {
        insert(&self.write, customer_id, actor, build).await
    }

    async fn get_account(&self, id: AccountId) -> Result<Account, StoreError> {
        get(&self.read, id).await
    }

    async fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> Result<Page<Account>, StoreError> {
        list(&self.read, filter, page).await
    }

    async fn update_account<E, F>(
        &self,
        id: AccountId,
        actor: Actor,
        change: F,
    ) -> Result<Account, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Account) -> Result<(), E> + Send + 'static,
    {
        update(&self.write, id, actor, change).await
    }
}
