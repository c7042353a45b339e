//! Bounds on what statement rendering may cost one node: the lines one PDF holds, and how many
//! PDFs are rendered at once.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Statement settings, from configuration.
#[derive(Debug, Clone)]
pub struct StatementSettings {
    /// The most lines a PDF statement holds; a longer month is refused with
    /// `statement_too_large` (its CSV and JSON, streamed, have no limit).
    pub pdf_max_lines: u64,
    /// Bounds the PDF statements this node renders at once.
    pub renders: RenderGate,
}

impl Default for StatementSettings {
    fn default() -> Self {
        StatementSettings {
            pdf_max_lines: 5_000,
            renders: RenderGate::new(NonZeroUsize::MIN.saturating_add(3), Duration::from_secs(2)),
        }
    }
}

/// At most N renders at once; a render that cannot start within `wait` is answered 503.
///
/// Clones share their permits, so the gate built from the settings is the node's one gate.
#[derive(Debug, Clone)]
pub struct RenderGate {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl RenderGate {
    /// A gate admitting `renders` at once, each waiting at most `wait` for its turn.
    pub fn new(renders: NonZeroUsize, wait: Duration) -> Self {
        RenderGate {
            permits: Arc::new(Semaphore::new(renders.get())),
            wait,
        }
    }

    /// Waits for a turn, at most the configured time; the turn ends when the permit drops.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or the semaphore was closed (it never is).
            _ => Err(self.busy()),
        }
    }

    /// A turn if one is free now (lets tests hold the gate while they probe it).
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }

    /// 503 `service_unavailable`, retry after the wait (a render takes about that long).
    fn busy(&self) -> ApiError {
        let seconds = self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0);
        ApiError::service_unavailable(
            "too many statements are being rendered; retry later",
            seconds.max(1),
        )
    }
}
