//! Accounts: insert under the owner's lock, read, list, and update under lock.

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::{AccountFilter, AccountStore, StoreError};
use coffre_domain::events::{Actor, Event};
use coffre_domain::{Account, AccountId, Customer, CustomerId, Iban};
use coffre_store_sql::ledger_plan::AccountUpdate;
use coffre_store_sql::listing::{page_of, sql_offset};
use coffre_store_sql::rows::{AccountRow, convert_all};
use coffre_store_sql::writes::{
    account_to_insert, account_to_update, check_same_accounts, check_updated_under_lock,
};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::PostgresEngine;
use crate::error::StoreContext;
use crate::{customer_row, events};

/// The `accounts` columns an [`AccountRow`] reads, as a literal for `concat!`.
macro_rules! account_columns {
    () => {
        "id, customer_id, iban, bic, type, status, currency, nickname, status_reason, balance_minor, \
         overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, outgoing_day, version, \
         created_at, updated_at, closed_at"
    };
}

/// Reads an account.
pub(crate) async fn get(pool: &PgPool, id: AccountId) -> Result<Account, StoreError> {
    let row: Option<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .store_context("failed to read account")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// The id of the account with this IBAN, if any (IBANs are unique, whatever the status).
pub(crate) async fn id_by_iban(
    pool: &PgPool,
    iban: &Iban,
) -> Result<Option<AccountId>, StoreError> {
    let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM accounts WHERE iban = $1")
        .bind(iban.electronic())
        .fetch_optional(pool)
        .await
        .store_context("failed to find an account by IBAN")?;
    Ok(id.map(AccountId))
}

/// Reads and locks an account inside a transaction.
async fn lock(conn: &mut PgConnection, id: AccountId) -> Result<Account, StoreError> {
    let row: Option<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1 FOR UPDATE"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await
    .store_context("failed to lock account")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Reads and locks every account of a customer, in id order: the one lock order every
/// transaction that locks several accounts follows, so that none waits for another in a cycle.
pub(crate) async fn lock_of_customer(
    conn: &mut PgConnection,
    id: CustomerId,
) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE customer_id = $1 ORDER BY id FOR UPDATE"
    ))
    .bind(id.0)
    .fetch_all(conn)
    .await
    .store_context("failed to lock the customer's accounts")?;
    convert_all(rows)
}

/// Reads and locks the accounts among `ids` that exist, in id order (the lock order every
/// transaction that locks several accounts follows).
pub(crate) async fn lock_all(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
    .store_context("failed to lock accounts")?;
    convert_all(rows)
}

/// Locks the customer in share mode (a concurrent KYC decision, which locks it for update,
/// waits for this opening or is seen by it, while several openings may proceed side by side),
/// lets `build` make the account, inserts it and records its opening.
pub(crate) async fn insert<E, F>(
    pool: &PgPool,
    customer_id: CustomerId,
    actor: Actor,
    build: F,
) -> Result<Account, E>
where
    E: From<StoreError>,
    F: FnOnce(&Customer) -> Result<Account, E>,
{
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin account insert")?;
    let customer = customer_row::lock(&mut tx, customer_id, false).await?;
    let account = account_to_insert(build(&customer)?, customer_id)?;
    sqlx::query(
        "INSERT INTO accounts (id, customer_id, iban, bic, type, status, currency, nickname, status_reason, \
         balance_minor, overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, outgoing_day, version, \
         created_at, updated_at, closed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
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
    .bind(account.created_at)
    .bind(account.updated_at)
    .bind(account.closed_at)
    .execute(&mut *tx)
    .await
    .store_context("failed to insert account")?;
    let opened = [Event::account_created(&account)];
    events::append(&mut tx, &opened, actor, account.created_at).await?;
    tx.commit()
        .await
        .store_context("failed to commit account insert")?;
    Ok(account)
}

/// Appends the filter's `WHERE` clause.
fn push_filter(query: &mut QueryBuilder<Postgres>, filter: &AccountFilter) {
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

/// Lists accounts newest first; the count and the page come from one `REPEATABLE READ`
/// snapshot, so the total always agrees with the page.
pub(crate) async fn list(
    pool: &PgPool,
    filter: &AccountFilter,
    page: PageRequest,
) -> Result<Page<Account>, StoreError> {
    let offset = sql_offset(page)?;
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .store_context("failed to begin account list")?;
    let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM accounts");
    push_filter(&mut count, filter);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *tx)
        .await
        .store_context("failed to count accounts")?;
    let mut items = Vec::new();
    if offset < total {
        let mut select =
            QueryBuilder::<Postgres>::new(concat!("SELECT ", account_columns!(), " FROM accounts"));
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

/// Locks the account, lets `change` modify it, and writes it back (with the events that say
/// how it changed) if its version changed.
pub(crate) async fn update<E, F>(
    pool: &PgPool,
    id: AccountId,
    actor: Actor,
    change: F,
) -> Result<Account, E>
where
    E: From<StoreError>,
    F: FnOnce(&mut Account) -> Result<(), E>,
{
    let mut tx = pool
        .begin()
        .await
        .store_context("failed to begin account update")?;
    let before = lock(&mut tx, id).await?;
    let mut after = before.clone();
    change(&mut after)?;
    let changes = write_back(&mut tx, before, after).await?;
    let account = changes.account;
    events::append(&mut tx, &changes.events, actor, account.updated_at).await?;
    tx.commit()
        .await
        .store_context("failed to commit account update")?;
    Ok(account)
}

/// Writes back each account whose version changed, and returns the events that say how they
/// changed; the closure must not add, drop or reorder accounts.
pub(crate) async fn write_back_all(
    conn: &mut PgConnection,
    before: Vec<Account>,
    after: Vec<Account>,
) -> Result<Vec<Event>, StoreError> {
    check_same_accounts(&before, &after)?;
    let mut changes = Vec::new();
    for (before, after) in before.into_iter().zip(after) {
        changes.extend(write_back(conn, before, after).await?.events);
    }
    Ok(changes)
}

/// What a write-back stored, and the events that say how the account changed.
pub(crate) struct WrittenBack {
    /// The account as now stored.
    pub(crate) account: Account,
    /// Its changes other than its balance (empty when nothing was written).
    pub(crate) events: Vec<Event>,
}

/// Writes `after` over `before` if its version changed. Only the fields an account's life
/// changes are written: its identity is fixed at opening (see [`account_to_update`]).
pub(crate) async fn write_back(
    conn: &mut PgConnection,
    before: Account,
    after: Account,
) -> Result<WrittenBack, StoreError> {
    let Some(after) = account_to_update(&before, after)? else {
        return Ok(WrittenBack {
            account: before,
            events: Vec::new(),
        });
    };
    write_update(
        conn,
        &AccountUpdate {
            before_version: before.version,
            after: after.clone(),
        },
    )
    .await?;
    Ok(WrittenBack {
        events: Event::account_changes(&before, &after),
        account: after,
    })
}

/// Writes an account's new state over the version read under its lock. Only the fields an
/// account's life changes are written.
pub(crate) async fn write_update(
    conn: &mut PgConnection,
    update: &AccountUpdate,
) -> Result<(), StoreError> {
    let after = &update.after;
    let updated = sqlx::query(
        "UPDATE accounts SET status = $1, nickname = $2, status_reason = $3, balance_minor = $4, \
         overdraft_limit_minor = $5, daily_limit_minor = $6, outgoing_today_minor = $7, outgoing_day = $8, \
         version = $9, updated_at = $10, closed_at = $11 WHERE id = $12 AND version = $13",
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
    .bind(after.updated_at)
    .bind(after.closed_at)
    .bind(after.id.0)
    .bind(update.before_version)
    .execute(conn)
    .await
    .store_context("failed to update account")?;
    check_updated_under_lock(updated.rows_affected(), "account", after.id)
}

impl AccountStore for PostgresEngine {
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
        insert(&self.pool, customer_id, actor, build).await
    }

    async fn get_account(&self, id: AccountId) -> Result<Account, StoreError> {
        get(&self.pool, id).await
    }

    async fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> Result<Page<Account>, StoreError> {
        list(&self.pool, filter, page).await
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
        update(&self.pool, id, actor, change).await
    }
}
