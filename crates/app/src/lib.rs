//! Coffre's use cases and the ports they need.
//!
//! [`Service`] implements every use case over a [`Storage`](ports::Storage) (one port per aggregate), a
//! [`PasswordHasher`](ports::PasswordHasher) and a [`Clock`](ports::Clock). Adapters (the
//! SQLite and PostgreSQL stores, the HTTP layer) depend on this crate; it depends on none of
//! them, so every rule about *who may do what* is written once, here.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod customers;
pub mod error;
pub mod group_commit;
pub mod holds;
pub mod idempotency;
mod in_flight;
pub mod ledger;
pub mod oauth;
pub mod outage;
pub mod pagination;
pub mod ports;
pub mod principal;
pub mod read_cache;
pub mod service;
pub mod statements;
pub mod throttle;

pub use error::{AppError, FieldError, MfaRequirement};
pub use pagination::{Page, PageRequest};
pub use principal::Principal;
pub use service::{BankIdentity, Service, ServiceConfig, ServicePorts};
