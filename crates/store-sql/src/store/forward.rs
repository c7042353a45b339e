//! Ports not yet written once for both engines: each engine type still implements them, and
//! these impls hand the calls on. Each goes away when its port moves into this crate.

use std::future::Future;

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::{
    AccountFilter, AccountStore, CustomerFilter, CustomerStore, StoreError, UserRecord,
};
use coffre_domain::events::Actor;
use coffre_domain::{Account, AccountId, Customer, CustomerId};

use super::SqlStore;
use crate::engine::Engine;

impl<Eng: Engine + CustomerStore> CustomerStore for SqlStore<Eng> {
    fn insert_customer(
        &self,
        customer: &Customer,
        user: &UserRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.insert_customer(customer, user, actor)
    }

    fn get_customer(
        &self,
        id: CustomerId,
    ) -> impl Future<Output = Result<Customer, StoreError>> + Send {
        self.engine.get_customer(id)
    }

    fn list_customers(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Customer>, StoreError>> + Send {
        self.engine.list_customers(filter, page)
    }

    fn update_customer<E, F>(
        &self,
        id: CustomerId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Customer, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), E> + Send + 'static,
    {
        self.engine.update_customer(id, actor, change)
    }
}

impl<Eng: Engine + AccountStore> AccountStore for SqlStore<Eng> {
    fn insert_account<E, F>(
        &self,
        customer_id: CustomerId,
        actor: Actor,
        build: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Customer) -> Result<Account, E> + Send + 'static,
    {
        self.engine.insert_account(customer_id, actor, build)
    }

    fn get_account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Account, StoreError>> + Send {
        self.engine.get_account(id)
    }

    fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Account>, StoreError>> + Send {
        self.engine.list_accounts(filter, page)
    }

    fn update_account<E, F>(
        &self,
        id: AccountId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Account) -> Result<(), E> + Send + 'static,
    {
        self.engine.update_account(id, actor, change)
    }
}
