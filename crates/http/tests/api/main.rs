//! Black-box tests of the HTTP API against the real router, on both storage engines.
//!
//! Every test is written once, as `async fn name(app: TestApp)`, and [`both_engines!`] runs it
//! on a fresh SQLite database and on a fresh database of a throwaway PostgreSQL server.

mod helpers;

mod accounts;
mod auth;
mod concurrency;
mod customers;
mod errors;
mod operations;
