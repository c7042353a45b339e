//! The real `coffre` binary, driven from outside: its commands, its server on both engines,
//! several nodes sharing PostgreSQL and Redis, load and crash safety, OpenID Connect clients and
//! a headless browser. One test binary, so that the shared `support` module and the
//! dependencies are compiled and linked once.

mod support;

mod audit_cli;
mod bench_cli;
mod browser_authorize;
mod cache_nodes;
mod cli;
mod crash_safety;
mod hot_account;
mod ledger_load;
mod metrics_listener;
mod oauth_cli;
mod oidc_client;
mod rate_limit_nodes;
mod revocation_nodes;
