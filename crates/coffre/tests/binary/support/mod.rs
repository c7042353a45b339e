//! Driving the real `coffre` binary from tests: commands, a running server, and an API client
//! with a staff session.

mod api;
pub(crate) mod authorize;
pub(crate) mod browser;
mod ledger_facts;
mod random;
mod site;

pub(crate) use api::{Api, CUSTOMER_PASSWORD, audit_status, funded_accounts, sign_up};
pub(crate) use ledger_facts::ledger_facts;
pub(crate) use random::Random;
pub(crate) use site::{STAFF_PASSWORD, Site, json_line, shared_site, sqlite_path};
