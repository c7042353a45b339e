//! Accounts: insert under the owner's lock, read, list, and update under lock.

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::{AccountFilter, AccountStore, StoreError};
use coffre_domain::events::{Actor, Event};
use coffre_domain::{Account, AccountId, Customer, CustomerId};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};
use time::Date;
use uuid::Uuid;

use crate::customer_row::read_customer;
use crate::engine::{Engine, StoreContext};
use crate::events;
use crate::ledger_rows::ChainHeadRow;
use crate::listing::counted_page;
use crate::rows::{AccountRow, CustomerRow, convert_all};
use crate::sql::{RowLock, for_update};
use crate::store::SqlStore;
use crate::writes::{
    account_to_insert, account_to_update, check_same_accounts, check_updated_under_lock,
};

/// Reads an account, its row locked as asked.
async fn read_account<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    id: AccountId,
    lock: RowLock,
) -> Result<Account, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    AccountRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let select = concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1"
    );
    let row: Option<AccountRow> = sqlx::query_as(lock.applied_to::<E>(select))
        .bind(id.0)
        .fetch_optional(E::conn(conn))
        .await
        .store_context::<E>("failed to read account")?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Reads and locks every account of a customer, in id order: the one lock order every
/// transaction that locks several accounts follows, so that none waits for another in a cycle.
pub(crate) async fn lock_of_customer<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    id: CustomerId,
) -> Result<Vec<Account>, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    AccountRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    let rows: Vec<AccountRow> = sqlx::query_as(for_update::<E>(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE customer_id = $1 ORDER BY id"
    )))
    .bind(id.0)
    .fetch_all(E::conn(conn))
    .await
    .store_context::<E>("failed to lock the customer's accounts")?;
    convert_all(rows)
}

/// Writes back each account whose version changed, and returns the events that say how they
/// changed; the closure must not add, drop or reorder accounts.
pub(crate) async fn write_back_all<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    before: Vec<Account>,
    after: Vec<Account>,
) -> Result<Vec<Event>, StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<&'q str>: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<i64>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Date>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
{
    check_same_accounts(&before, &after)?;
    let mut changes = Vec::new();
    for (before, after) in before.into_iter().zip(after) {
        if let Some(after) = account_to_update(&before, after)? {
            write_update::<E>(conn, before.version, &after).await?;
            changes.extend(Event::account_changes(&before, &after));
        }
    }
    Ok(changes)
}

/// Writes an account's new state over the version read under its lock. Only the fields an
/// account's life changes are written: its identity is fixed at opening (see
/// [`account_to_update`]).
async fn write_update<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    before_version: i64,
    after: &Account,
) -> Result<(), StoreError>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<&'q str>: Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<i64>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Date>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
{
    let updated = sqlx::query(
        "UPDATE accounts SET status = $1, nickname = $2, status_reason = $3, balance_minor = $4, \
         overdraft_limit_minor = $5, daily_limit_minor = $6, outgoing_today_minor = $7, \
         outgoing_day = $8, version = $9, updated_at = $10, closed_at = $11 \
         WHERE id = $12 AND version = $13",
    )
    .bind(after.status.as_str())
    .bind(after.nickname.as_deref())
    .bind(after.status_reason.as_deref())
    .bind(after.balance_minor)
    .bind(after.overdraft_limit_minor)
    .bind(after.daily_limit_minor)
    .bind(after.outgoing_today_minor)
    .bind(after.outgoing_day)
    .bind(after.version)
    .bind(E::instant(after.updated_at)?)
    .bind(E::optional_instant(after.closed_at)?)
    .bind(after.id.0)
    .bind(before_version)
    .execute(E::conn(conn))
    .await
    .store_context::<E>("failed to update account")?;
    check_updated_under_lock(E::rows_affected(&updated), "account", after.id)
}

/// Appends the filter's `WHERE` clause.
fn push_filter<E: Engine>(query: &mut QueryBuilder<E::Db>, filter: &AccountFilter)
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    String: for<'q> Encode<'q, E::Db> + Type<E::Db>,
{
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
            .push_bind(account_type.as_str().to_owned());
        joiner = " AND ";
    }
    if let Some(status) = filter.status {
        query
            .push(joiner)
            .push("status = ")
            .push_bind(status.as_str().to_owned());
    }
}

impl<E: Engine> AccountStore for SqlStore<E>
where
    Uuid: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<&'q str>: Encode<'q, E::Db> + Type<E::Db>,
    String: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<i64>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    Option<Date>: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    (i64,): for<'r> FromRow<'r, <E::Db as Database>::Row>,
    for<'q> &'q [u8]: Encode<'q, E::Db> + Type<E::Db>,
    CustomerRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    AccountRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
    ChainHeadRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    /// Locks the customer in share mode (a concurrent KYC decision, which locks it for update,
    /// waits for this opening or is seen by it, while several openings may proceed side by
    /// side), lets `build` make the account, inserts it and records its opening.
    async fn insert_account<Er, F>(
        &self,
        customer_id: CustomerId,
        actor: Actor,
        build: F,
    ) -> Result<Account, Er>
    where
        Er: From<StoreError> + Send + 'static,
        F: FnOnce(&Customer) -> Result<Account, Er> + Send + 'static,
    {
        let mut tx = self.engine.begin_write().await?;
        let customer = read_customer::<E>(&mut tx, customer_id, RowLock::Shared).await?;
        let account = account_to_insert(build(&customer)?, customer_id)?;
        sqlx::query(
            "INSERT INTO accounts (id, customer_id, iban, bic, type, status, currency, nickname, \
             status_reason, balance_minor, overdraft_limit_minor, daily_limit_minor, \
             outgoing_today_minor, outgoing_day, version, created_at, updated_at, closed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18)",
        )
        .bind(account.id.0)
        .bind(account.customer_id.0)
        .bind(account.iban.electronic())
        .bind(account.bic.as_str())
        .bind(account.account_type.as_str())
        .bind(account.status.as_str())
        .bind(account.currency.code())
        .bind(account.nickname.as_deref())
        .bind(account.status_reason.as_deref())
        .bind(account.balance_minor)
        .bind(account.overdraft_limit_minor)
        .bind(account.daily_limit_minor)
        .bind(account.outgoing_today_minor)
        .bind(account.outgoing_day)
        .bind(account.version)
        .bind(E::instant(account.created_at)?)
        .bind(E::instant(account.updated_at)?)
        .bind(E::optional_instant(account.closed_at)?)
        .execute(E::conn(&mut tx))
        .await
        .store_context::<E>("failed to insert account")?;
        let opened = [(Event::account_created(&account), actor)];
        events::append_attributed::<E>(&mut tx, &opened, account.created_at).await?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit account insert")?;
        Ok(account)
    }

    async fn get_account(&self, id: AccountId) -> Result<Account, StoreError> {
        let mut conn = self.engine.acquire_read().await?;
        read_account::<E>(&mut conn, id, RowLock::None).await
    }

    /// Lists accounts newest first, the count and the page from one snapshot.
    async fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> Result<Page<Account>, StoreError> {
        counted_page::<E, AccountRow, Account>(
            &self.engine,
            "SELECT COUNT(*) FROM accounts",
            concat!("SELECT ", account_columns!(), " FROM accounts"),
            |query| push_filter::<E>(query, filter),
            page,
        )
        .await
    }

    /// Locks the account, lets `change` modify it, and writes it back (with the events that
    /// say how it changed) if its version changed.
    async fn update_account<Er, F>(
        &self,
        id: AccountId,
        actor: Actor,
        change: F,
    ) -> Result<Account, Er>
    where
        Er: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Account) -> Result<(), Er> + Send + 'static,
    {
        let mut tx = self.engine.begin_write().await?;
        let before = read_account::<E>(&mut tx, id, RowLock::Exclusive).await?;
        let mut after = before.clone();
        change(&mut after)?;
        let Some(after) = account_to_update(&before, after)? else {
            return Ok(before);
        };
        write_update::<E>(&mut tx, before.version, &after).await?;
        let changes = Event::account_changes(&before, &after);
        events::append::<E>(&mut tx, &changes, actor, after.updated_at).await?;
        tx.commit()
            .await
            .store_context::<E>("failed to commit account update")?;
        Ok(after)
    }
}
