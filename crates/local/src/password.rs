//! The argon2id password hasher (the `PasswordHasher` port's adapter).
//!
//! Parameters follow the OWASP Password Storage Cheat Sheet's first argon2id option:
//! m = 19 MiB, t = 2, p = 1. Hashing runs on tokio's blocking pool so that a burst of logins
//! never stalls the request-serving threads, and at most one hash per CPU runs at a time: each
//! takes 19 MiB, and a flood of anonymous sign-ups or logins must queue (then be refused with
//! 503), not exhaust memory.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use std::sync::Arc;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;
use tokio::sync::Semaphore;

use coffre_app::ports::{BoxFuture, HasherBusy, PasswordHasher};

/// How long a request waits for a free hashing slot before it is refused.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

/// argon2id with OWASP parameters, at most one hash per CPU at a time.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
}

impl Argon2Hasher {
    /// A hasher with one slot per available CPU.
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Argon2Hasher::with_limits(cpus, QUEUE_TIMEOUT)
    }

    /// A hasher with `slots` concurrent hashes, refusing after `queue_timeout` in the queue.
    pub fn with_limits(slots: usize, queue_timeout: Duration) -> Self {
        Argon2Hasher {
            slots: Arc::new(Semaphore::new(slots)),
            queue_timeout,
        }
    }

    /// Runs `work` on the blocking pool once a slot is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, anyhow::Error> + Send + 'static,
    ) -> Result<T, anyhow::Error> {
        let permit =
            tokio::time::timeout(self.queue_timeout, Arc::clone(&self.slots).acquire_owned())
                .await
                .map_err(|_| anyhow::Error::new(HasherBusy))??;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await?
    }
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Argon2Hasher::new()
    }
}

fn argon2() -> Result<Argon2<'static>, anyhow::Error> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

impl PasswordHasher for Argon2Hasher {
    fn hash<'a>(&'a self, password: &'a str) -> BoxFuture<'a, Result<String, anyhow::Error>> {
        let password = password.to_owned();
        Box::pin(self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()?
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| anyhow::anyhow!("failed to hash password: {e}"))
        }))
    }

    fn verify<'a>(
        &'a self,
        password: &'a str,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<bool, anyhow::Error>> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        Box::pin(self.run(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
            // The parameters come from the stored hash, so hashes made with older parameters
            // still verify after a policy change.
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() -> Result<(), anyhow::Error> {
        let hasher = Argon2Hasher::new();
        let hash = hasher.hash("correct horse battery").await?;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify("correct horse battery", &hash).await?);
        assert!(!hasher.verify("correct horse battery!", &hash).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_saturated_hasher_refuses_instead_of_queueing_without_bound() {
        let hasher = Argon2Hasher::with_limits(1, Duration::from_millis(1));
        let (first, second) = tokio::join!(
            hasher.hash("first password"),
            hasher.hash("second password")
        );
        assert!(first.is_ok());
        assert!(second.is_err_and(|e| e.is::<HasherBusy>()));
    }
}
