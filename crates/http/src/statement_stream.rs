//! Statements streamed as JSON or CSV: the body is written page by page as the lines are read,
//! so a month of any size costs the server one page of memory.
//!
//! The status and headers are sent before the first line is read. A failure after that (the
//! store goes away, or the lines do not add up to the summary) is logged and ends the body with
//! an error: the connection is cut before the body is complete, and the client sees a truncated
//! transfer, never a short statement that looks whole.

use axum::body::{Body, Bytes};
use coffre_app::ports::Storage;
use coffre_app::statements::{StatementPages, StatementSummary};
use futures_util::stream;

use crate::dto::statement::{StatementDto, StatementLineDto};
use crate::statement_csv::{self, CSV_HEADER};

/// The streamed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streamed {
    /// `application/json`: the same document as [`StatementDto`].
    Json,
    /// `text/csv`: a header row, then one row per line.
    Csv,
}

/// Where a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Head,
    Lines,
    Done,
}

/// A stream's state between chunks.
struct Progress<S> {
    format: Streamed,
    summary: StatementSummary,
    pages: StatementPages<S>,
    stage: Stage,
    /// Lines written so far.
    lines: u64,
    /// The balance after the last line written.
    balance_minor: i64,
}

/// The body of a streamed statement.
pub fn body<S: Storage>(
    format: Streamed,
    summary: StatementSummary,
    pages: StatementPages<S>,
) -> Body {
    let progress = Progress {
        format,
        balance_minor: summary.opening_minor,
        summary,
        pages,
        stage: Stage::Head,
        lines: 0,
    };
    Body::from_stream(stream::try_unfold(progress, |mut progress| async move {
        match progress.next_chunk().await {
            Ok(chunk) => Ok(chunk.map(|chunk| (chunk, progress))),
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    account_id = %progress.summary.account.id.0,
                    month = %progress.summary.month,
                    lines_sent = progress.lines,
                    "statement stream failed; the body is cut short"
                );
                Err(std::io::Error::other(error.to_string()))
            }
        }
    }))
}

impl<S: Storage> Progress<S> {
    /// The next chunk of the body, `None` at its end.
    async fn next_chunk(&mut self) -> anyhow::Result<Option<Bytes>> {
        match self.stage {
            Stage::Head => {
                self.stage = Stage::Lines;
                self.head().map(Some)
            }
            Stage::Lines => match self.pages.next_page().await? {
                Some(page) => self.encode(&page).map(Some),
                None => {
                    self.stage = Stage::Done;
                    self.check_complete()?;
                    Ok(match self.format {
                        Streamed::Json => Some(Bytes::from_static(b"]}")),
                        Streamed::Csv => None,
                    })
                }
            },
            Stage::Done => Ok(None),
        }
    }

    /// JSON: the statement document up to its `lines` array's opening bracket. CSV: the header.
    fn head(&self) -> anyhow::Result<Bytes> {
        match self.format {
            Streamed::Json => {
                // The document with no line, less its closing `]}`: the lines follow, then `]}`.
                let mut json = serde_json::to_vec(&StatementDto::head(&self.summary))?;
                anyhow::ensure!(json.ends_with(b"[]}"), "`lines` must be the last field");
                json.truncate(json.len() - 2);
                Ok(json.into())
            }
            Streamed::Csv => Ok(statement_csv::write_records([CSV_HEADER], Vec::new())?.into()),
        }
    }

    /// One page of lines.
    fn encode(&mut self, page: &[coffre_app::ports::StatementLine]) -> anyhow::Result<Bytes> {
        let mut out = Vec::with_capacity(page.len() * 256);
        match self.format {
            Streamed::Json => {
                for line in page {
                    if self.lines > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut out, &StatementLineDto::from(line))?;
                    self.lines += 1;
                }
            }
            Streamed::Csv => {
                out = statement_csv::write_records(page.iter().map(statement_csv::row), out)?;
                self.lines += page.len() as u64;
            }
        }
        if let Some(last) = page.last() {
            self.balance_minor = last.balance_after_minor;
        }
        Ok(out.into())
    }

    /// The lines written are the ones the summary counted, and end on its closing balance.
    fn check_complete(&self) -> anyhow::Result<()> {
        let summary = &self.summary;
        anyhow::ensure!(
            self.lines == summary.line_count && self.balance_minor == summary.closing_minor,
            "the statement's lines ({} ending at {}) disagree with its summary ({} ending at {})",
            self.lines,
            self.balance_minor,
            summary.line_count,
            summary.closing_minor
        );
        Ok(())
    }
}
