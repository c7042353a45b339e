//! The repository contract: what every [`Storage`](coffre_app::ports::Storage) must do, written
//! once as generic async functions.
//!
//! Each function takes a fresh, migrated store and returns an error (or fails an assertion)
//! when the store breaks the contract. [`contract_tests!`](crate::contract_tests) turns every
//! one of them into a separately named `#[tokio::test]` in the crate that invokes it; a new
//! contract function must also be added to that macro's list.

mod accounts;
mod audit;
mod concurrency;
mod customer_lists;
mod customers;
pub mod fixtures;
mod group_commit;
mod holds;
mod ledger;
mod logins;
mod mfa;
mod oauth;

pub use accounts::*;
pub use audit::*;
pub use concurrency::*;
pub use customer_lists::*;
pub use customers::*;
pub use group_commit::*;
pub use holds::*;
pub use ledger::*;
pub use logins::*;
pub use mfa::*;
pub use oauth::*;
