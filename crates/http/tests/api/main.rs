//! Black-box tests of the HTTP API against the real router, on both storage engines.
//!
//! Every test is written once, as `async fn name(app: TestApp)`, and [`both_engines!`] runs it
//! on a fresh SQLite database and on a fresh database of a throwaway PostgreSQL server.

mod helpers;

mod accounts;
mod audit;
mod auth;
mod authorize;
mod batch_properties;
mod concurrency;
mod connections;
mod customers;
mod errors;
mod holds;
mod json_bodies;
mod mfa;
mod oauth;
mod oauth_refusals;
mod oauth_support;
mod operations;
mod rate_limits;
mod read_cache;
mod request_edges;
mod sessions;
mod statement_csv;
mod statement_limits;
mod statements;
mod step_up;
mod token_families;
mod transaction_batches;
mod transaction_idempotency;
mod transactions;
