//! The customers' port: a customer is created with their login, read, listed, and changed
//! together with all their accounts (a KYC decision reaches every account in one transaction).

use std::future::Future;

use coffre_domain::events::Actor;
use coffre_domain::{Account, Customer, CustomerId, KycStatus};

use crate::pagination::{Page, PageRequest};
use crate::ports::{StoreError, UserRecord};

/// Filters of the customer list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Only customers with this KYC status.
    pub kyc_status: Option<KycStatus>,
    /// Case-insensitive substring of first name, last name or e-mail (already lower case).
    pub query: Option<String>,
}

/// Persistence of customers.
///
/// Every method is one database transaction. Closures run inside it, with the rows locked, and
/// must be pure (no I/O). Every change appends its events (see
/// [`coffre_domain::events::Event`]'s `customer_registered`, `customer_changes` and
/// `account_changes`) to the event log in that same transaction, attributed to `actor`.
pub trait CustomerStore: Clone + Send + Sync + 'static {
    /// Creates a customer and their login together.
    fn insert_customer(
        &self,
        customer: &Customer,
        user: &UserRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads a customer.
    fn get_customer(
        &self,
        id: CustomerId,
    ) -> impl Future<Output = Result<Customer, StoreError>> + Send;

    /// Lists customers, newest first, with the total, from one snapshot.
    fn list_customers(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Customer>, StoreError>> + Send;

    /// Locks a customer and all their accounts, lets `change` modify them, and writes back the
    /// customer and every account whose `version` changed.
    fn update_customer<E, F>(
        &self,
        id: CustomerId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Customer, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), E> + Send + 'static;
}
