//! Handlers, one module per resource. Each handler parses, calls one use case, and maps the
//! result; the rules live in `coffre-app`. [`table`] declares each operation once, and
//! [`lookup`] finds a request's operation in it.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod authorize;
pub mod customers;
pub mod holds;
pub mod lookup;
pub mod mfa;
pub mod oauth;
pub mod oauth_errors;
pub mod ops;
pub mod statements;
pub mod table;
pub mod transactions;
