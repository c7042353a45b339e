//! Transport types: what goes over the wire, kept apart from domain types. Request bodies
//! deny unknown fields and are turned into domain commands by `try_into_domain`, which
//! collects every invalid field rather than stopping at the first.

pub mod account;
pub mod audit;
pub mod auth;
pub mod customer;
pub mod hold;
pub mod mfa;
pub mod money;
pub mod oauth;
pub mod page;
pub mod statement;
pub mod timestamp;
pub mod transaction;
pub mod transaction_batch;
pub mod transaction_list;
