//! Coffre's JOSE adapter: ES256 JWTs signed with keys kept in the data directory.
//!
//! [`KeyRing`] owns the keys (one PKCS#8 PEM file per key, rotated by adding a file, reloaded by
//! running servers); [`JwtSigner`] implements the app's `TokenSigner` port over a ring. The
//! same directory holds the key with which [`SecretSealer`] (the `SecretSeal` port) encrypts
//! the secrets the database must keep readable.

mod key;
mod key_dir;
mod keys;
mod seal;
mod signer;
mod verify;

pub use keys::{KeyInfo, KeyRing, RETENTION_LEEWAY};
pub use seal::SecretSealer;
pub use signer::{ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, JwtSigner};
