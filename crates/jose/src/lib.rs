//! Coffre's JOSE adapter: ES256 JWTs signed with keys kept in the data directory.
//!
//! [`KeyRing`] owns the keys (one PKCS#8 PEM file per key, rotated by adding a file, reloaded by
//! running servers); [`JwtSigner`] implements the app's `TokenSigner` port over a ring.

mod key;
mod key_dir;
mod keys;
mod signer;
mod verify;

pub use keys::{KeyInfo, KeyRing, RETENTION_LEEWAY};
pub use signer::{ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, JwtSigner};
