//! The accounts' port: an account is opened under its customer's lock, read, listed, and
//! changed under its own lock.

use std::future::Future;

use coffre_domain::events::Actor;
use coffre_domain::{Account, AccountId, AccountStatus, AccountType, Customer, CustomerId};

use crate::pagination::{Page, PageRequest};
use crate::ports::StoreError;

/// Filters of the account list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Only this customer's accounts.
    pub customer_id: Option<CustomerId>,
    /// Only accounts of this type.
    pub account_type: Option<AccountType>,
    /// Only accounts in this status.
    pub status: Option<AccountStatus>,
}

/// Persistence of accounts (their balances move only through the
/// [`Ledger`](crate::ports::Ledger)).
///
/// Every method is one database transaction. Closures run inside it, with the rows locked, and
/// must be pure (no I/O). Every change appends its events (`account_created`,
/// `account_changes`) to the event log in that same transaction, attributed to `actor`.
pub trait AccountStore: Clone + Send + Sync + 'static {
    /// Locks a customer (so that a concurrent KYC decision is seen), lets `build` make the new
    /// account from it, and inserts the account.
    fn insert_account<E, F>(
        &self,
        customer_id: CustomerId,
        actor: Actor,
        build: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Customer) -> Result<Account, E> + Send + 'static;

    /// Reads an account.
    fn get_account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Account, StoreError>> + Send;

    /// Lists accounts, newest first, with the total, from one snapshot.
    fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Account>, StoreError>> + Send;

    /// Locks an account, lets `change` modify it, and writes it back if its `version` changed.
    fn update_account<E, F>(
        &self,
        id: AccountId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Account) -> Result<(), E> + Send + 'static;
}
