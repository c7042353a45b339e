//! Sealing secrets the database must keep readable (the TOTP shared secrets) with a key kept
//! outside the database, so that a copy of the database alone gives away no second factor.

/// Encrypts and authenticates small secrets. `owner` is bound to the sealed value as
/// associated data: a value copied to another owner's row does not open.
pub trait SecretSeal: std::fmt::Debug + Send + Sync + 'static {
    /// Seals `secret` for `owner`.
    fn seal(&self, secret: &[u8], owner: &[u8]) -> Result<Vec<u8>, anyhow::Error>;

    /// Opens what [`SecretSeal::seal`] sealed for `owner`; fails on any other input.
    fn open(&self, sealed: &[u8], owner: &[u8]) -> Result<Vec<u8>, anyhow::Error>;
}
