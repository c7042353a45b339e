//! `[statements]`: what rendering statements may cost a node.

use std::num::NonZeroUsize;
use std::time::Duration;

use anyhow::Context as _;
use coffre_http::{RenderGate, StatementSettings};
use serde::{Deserialize, Serialize};

/// `[statements]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StatementsConfig {
    /// The most lines a PDF statement holds; longer months are refused with
    /// `statement_too_large` (`COFFRE_STATEMENTS_PDF_MAX_LINES`).
    pub(crate) pdf_max_lines: u64,
    /// PDF statements rendered at once on this node (`COFFRE_STATEMENTS_MAX_RENDERS`).
    pub(crate) max_renders: usize,
    /// How long a PDF request waits for a free render before its 503, in milliseconds
    /// (`COFFRE_STATEMENTS_RENDER_WAIT_MS`).
    pub(crate) render_wait_ms: u64,
}

impl Default for StatementsConfig {
    fn default() -> Self {
        StatementsConfig {
            pdf_max_lines: 5_000,
            max_renders: 4,
            render_wait_ms: 2_000,
        }
    }
}

impl StatementsConfig {
    /// The HTTP layer's statement settings.
    pub(crate) fn settings(&self) -> anyhow::Result<StatementSettings> {
        let renders = NonZeroUsize::new(self.max_renders)
            .context("COFFRE_STATEMENTS_MAX_RENDERS must be positive")?;
        Ok(StatementSettings {
            pdf_max_lines: self.pdf_max_lines,
            renders: RenderGate::new(renders, Duration::from_millis(self.render_wait_ms)),
        })
    }
}
