//! Every storage port, named together.

use crate::ports::{
    AccountStore, AuditLog, CustomerStore, Housekeeping, Ledger, MfaStore, OAuthStore,
    SessionStore, ThrottleStore, UserStore,
};

/// Everything a store adapter provides: one port per aggregate. The use cases and the HTTP
/// layer are generic over this one bound.
pub trait Storage:
    CustomerStore
    + AccountStore
    + UserStore
    + SessionStore
    + ThrottleStore
    + Housekeeping
    + Ledger
    + AuditLog
    + OAuthStore
    + MfaStore
{
}

impl<T> Storage for T where
    T: CustomerStore
        + AccountStore
        + UserStore
        + SessionStore
        + ThrottleStore
        + Housekeeping
        + Ledger
        + AuditLog
        + OAuthStore
        + MfaStore
{
}
