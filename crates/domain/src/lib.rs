//! Coffre's banking domain: pure rules over values.
//!
//! Nothing in this crate performs I/O, awaits, or knows about databases or HTTP. Every type is
//! built through a fallible constructor ("parse, don't validate"), so a value that exists is a
//! value that is valid, and every rule is a plain function that can be tested in isolation.

pub mod account;
pub mod customer;
pub mod events;
pub mod iban;
pub mod ledger;
pub mod mfa;
pub mod money;
pub mod oauth;
pub mod user;

pub use account::{Account, AccountError, AccountId, AccountStatus, AccountType, NewAccount};
pub use customer::{
    Address, Customer, CustomerError, CustomerId, Email, KycDecision, KycStatus, PersonName,
};
pub use iban::{Bic, FrenchRib, Iban, IbanError};
pub use money::{Currency, Money, MoneyError};
pub use user::{Password, Role, UserError, UserId, Username};
