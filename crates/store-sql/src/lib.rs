//! What Coffre's SQL storage adapters share, written once for both engines.
//!
//! Only the engine-independent part lives here: the rows as a query returns them and their
//! fallible conversion into domain values, the generic half of error classification, and the
//! pure decisions an adapter takes around its SQL (what to write back after an update under
//! lock, how a search becomes a `LIKE` pattern, how a page is counted). SQL text, pools,
//! transactions and locking stay in each adapter, duplicated by design: one adapter per engine.
//!
//! This crate depends on sqlx without any engine feature, and on neither adapter: the adapters
//! depend on it the way they depend on `app`, and still never call each other (ADR 0006).

#[macro_use]
mod columns;

mod accounts;
mod audit;
mod customers;
pub mod engine;
pub mod error;
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
