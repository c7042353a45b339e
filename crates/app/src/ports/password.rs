//! The password hasher's port.

use std::fmt::Debug;

use crate::ports::BoxFuture;

/// Every password-hashing slot stayed busy for too long: the service is overloaded (503).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct HasherBusy;

/// Hashes and verifies passwords. Slow on purpose: implementations must not block the
/// async runtime. Held as a trait object: the one implementation is chosen by the binary.
pub trait PasswordHasher: Debug + Send + Sync + 'static {
    /// Hashes a password into a self-describing (PHC) string.
    fn hash<'a>(&'a self, password: &'a str) -> BoxFuture<'a, Result<String, anyhow::Error>>;

    /// True when `password` matches `hash`.
    fn verify<'a>(
        &'a self,
        password: &'a str,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<bool, anyhow::Error>>;
}
