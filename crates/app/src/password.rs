//! The argon2id password hasher (the `PasswordHasher` port's adapter).
//!
//! Parameters follow the OWASP Password Storage Cheat Sheet's first argon2id option:
//! m = 19 MiB, t = 2, p = 1. Hashing runs on tokio's blocking pool so that a burst of logins
//! never stalls the request-serving threads.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;

use crate::ports::PasswordHasher;

/// Verified against when the username is unknown (never a real password: see `Service`).
pub(crate) const DUMMY_PASSWORD: &str = "coffre-dummy-password-for-constant-time-login";

/// argon2id with OWASP parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Hasher;

fn argon2() -> Result<Argon2<'static>, anyhow::Error> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, anyhow::Error> {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()?
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| anyhow::anyhow!("failed to hash password: {e}"))
        })
        .await?
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool, anyhow::Error> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
            // The parameters come from the stored hash, so hashes made with older parameters
            // still verify after a policy change.
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() -> Result<(), anyhow::Error> {
        let hasher = Argon2Hasher;
        let hash = hasher.hash("correct horse battery").await?;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify("correct horse battery", &hash).await?);
        assert!(!hasher.verify("correct horse battery!", &hash).await?);
        Ok(())
    }
}
