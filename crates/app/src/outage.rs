//! A dependency's outage, as its callers see it: after a failure they leave it alone for a
//! while (answering without it), so that requests do not each wait for something that is down.
//! Used by the shared read cache and the shared rate limiter, both in Redis.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Whether a dependency is being left alone, and until when.
#[derive(Debug, Default)]
pub struct Outage {
    /// Set from a failure until the next success: until when to leave the dependency alone.
    until: Mutex<Option<Instant>>,
}

impl Outage {
    fn until(&self) -> MutexGuard<'_, Option<Instant>> {
        // A panic while holding the lock leaves a plain instant behind: still usable.
        self.until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the dependency is to be left alone now.
    pub fn ongoing(&self) -> bool {
        self.until().is_some_and(|until| Instant::now() < until)
    }

    /// Records a failure: the dependency is left alone for `wait` from now. True when this
    /// failure starts an outage (log it once, not once per request).
    pub fn failed(&self, wait: Duration) -> bool {
        self.until().replace(Instant::now() + wait).is_none()
    }

    /// Records a success. True when it ends an outage.
    pub fn answered(&self) -> bool {
        self.until().take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_failure_starts_a_window_that_a_success_ends() {
        let outage = Outage::default();
        assert!(!outage.ongoing());
        assert!(outage.failed(Duration::from_secs(4)));
        assert!(!outage.failed(Duration::from_secs(4)), "the same outage");
        assert!(outage.ongoing());
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(!outage.ongoing(), "the window is over");
        assert!(outage.answered());
        assert!(!outage.answered());
    }
}
