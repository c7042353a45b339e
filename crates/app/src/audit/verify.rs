//! Re-checking the hash chain of the whole event log, and that it ends where the chain head
//! says it does.

use coffre_domain::events::{BrokenLink, ChainHead, verify_chain};

use super::{CHUNK, require_auditor};
use crate::ports::{Clock, EventFilter, Storage};
use crate::{AppError, Principal, Service};

/// What the hash-chain check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainReport {
    /// True when every event checks out.
    pub ok: bool,
    /// How many events checked out (those before the first broken one).
    pub events_checked: i64,
    /// The sequence of the first event that does not check out.
    pub first_broken: Option<i64>,
}

impl ChainReport {
    fn intact(head: ChainHead) -> Self {
        ChainReport {
            ok: true,
            events_checked: head.last_sequence,
            first_broken: None,
        }
    }

    fn broken(link: BrokenLink) -> Self {
        ChainReport {
            ok: false,
            // Sequences start at 1 and the walk stops at the first broken one.
            events_checked: (link.sequence - 1).max(0),
            first_broken: Some(link.sequence),
        }
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Re-checks the hash chain of the whole log, a chunk at a time, and that it ends at the
    /// chain head. The head is read first: every event up to it was committed with it, and
    /// events appended while the walk runs lie beyond it and are left to the next check.
    pub async fn verify_log(&self, caller: &Principal) -> Result<ChainReport, AppError> {
        require_auditor(caller)?;
        let head = self.store.chain_head().await?;
        let walked = match self.walk_chain(head.last_sequence).await? {
            Ok(walked) => walked,
            Err(broken) => return Ok(ChainReport::broken(broken)),
        };
        Ok(match head.check_end(walked) {
            Ok(()) => ChainReport::intact(walked),
            Err(broken) => ChainReport::broken(broken),
        })
    }

    /// Follows the chain from its start up to `until`, link by link; returns where it
    /// ended, or the first link that does not check out.
    async fn walk_chain(&self, until: i64) -> Result<Result<ChainHead, BrokenLink>, AppError> {
        let filter = EventFilter::default();
        let mut walked = ChainHead::GENESIS;
        while walked.last_sequence < until {
            let mut chunk = self
                .store
                .events(&filter, walked.last_sequence, CHUNK)
                .await?;
            let complete = chunk.len() == CHUNK as usize;
            chunk.retain(|record| record.sequence <= until);
            match verify_chain(walked.last_hash, walked.last_sequence + 1, &chunk) {
                Ok((last_hash, next)) => {
                    walked = ChainHead {
                        last_sequence: next - 1,
                        last_hash,
                    };
                }
                Err(broken) => return Ok(Err(broken)),
            }
            if !complete {
                break;
            }
        }
        Ok(Ok(walked))
    }
}
