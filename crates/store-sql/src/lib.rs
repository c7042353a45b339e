//! Coffre's storage, written once for both engines: every storage port is implemented here for
//! [`SqlStore`](store::SqlStore) over an [`Engine`](engine::Engine), with the SQL, the control
//! flow (transactions, locks, write-backs, pages), the rows and their conversion into domain
//! values. What truly differs per engine is an `Engine` item, which each adapter implements
//! (ADR 0024).
//!
//! This crate depends on sqlx without any engine feature, and on neither adapter: the adapters
//! depend on it the way they depend on `app`, and never call each other.

#[macro_use]
mod columns;

mod accounts;
mod audit;
mod customer_row;
mod customers;
pub mod engine;
pub mod error;
mod events;
mod housekeeping;
pub mod ledger;
pub mod ledger_group;
pub mod ledger_plan;
pub mod ledger_rows;
pub mod listing;
pub mod logins;
mod mfa;
mod oauth;
pub mod rows;
mod sql;
pub mod store;
pub mod throttle;
pub mod writes;
