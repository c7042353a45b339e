//! Domain events and the hash chain that makes the event log tamper-evident.
//!
//! Every state change of a customer, an account, a transaction or a hold is recorded as an
//! [`Event`] in the same database transaction as the change itself. Stored events form a chain:
//! each one's hash covers the previous one's hash and its own [canonical bytes]
//! (EventRecord::canonical_bytes), so altering, inserting or deleting any stored event breaks
//! every hash from that event on, which [`verify_chain`] finds.
//!
//! Payloads hold identifiers, amounts and statuses, never personal data (names, e-mail,
//! addresses): the log is immutable, and personal data must stay erasable.

mod actor;
mod chain;
mod event;

pub use actor::Actor;
pub use chain::{BrokenLink, ChainHead, EventRecord, GENESIS_HASH, chain_record, verify_chain};
pub use event::{Event, PostingRecord};
