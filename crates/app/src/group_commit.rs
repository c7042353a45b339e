//! Group commit: the concurrent money movements of a node, coalesced into one database
//! transaction.
//!
//! Every request hands its batch to one queue. A single writer task takes what has queued
//! (at most `max_commands` commands, waiting at most `max_wait` for more once the first
//! arrived) and gives the whole group to the engine, which applies the batches one after the
//! other and commits once: one fsync, a few statements and one update per hot account for the
//! whole group, instead of one of each per request. Each request then gets its own outcome.
//! While a group commits, the next one forms, so the wait costs nothing under load; alone, a
//! request waits `max_wait` at most.
//!
//! Correctness does not depend on the queue: the engine locks rows in a fixed order, so
//! several nodes (each with its own writer) may write to one database.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::ports::{Ledger, LedgerBatch, LedgerOutcome, StoreError};

/// How requests are coalesced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitConfig {
    /// Off: every request commits on its own (one transaction per request).
    pub enabled: bool,
    /// The most commands one group holds (a batch larger than this is a group of its own).
    pub max_commands: usize,
    /// How long a group waits for more requests once its first arrived.
    pub max_wait: Duration,
}

impl Default for GroupCommitConfig {
    /// Chosen by measurement (`docs/benchmarks.md`): no extra wait (what queues while the
    /// previous group commits is enough to fill the next one), and groups of at most 1 000
    /// commands, the size of the largest batch request.
    fn default() -> Self {
        GroupCommitConfig {
            enabled: true,
            max_commands: 1000,
            max_wait: Duration::ZERO,
        }
    }
}

/// Requests waiting for the writer, at most (then senders wait: back-pressure).
const QUEUE_CAPACITY: usize = 4096;

/// A batch waiting for its group, and where its outcome goes.
struct Job {
    batch: LedgerBatch,
    reply: oneshot::Sender<Result<LedgerOutcome, StoreError>>,
    queued_at: Instant,
}

/// The way every money movement reaches the engine (see the module documentation).
#[derive(Clone)]
pub struct GroupCommit<L> {
    ledger: L,
    config: GroupCommitConfig,
    /// Started on first use, on the runtime that serves the requests.
    queue: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl<L> std::fmt::Debug for GroupCommit<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<L: Ledger> GroupCommit<L> {
    /// Coalesces the batches given to [`GroupCommit::execute`] before `ledger` runs them.
    pub fn new(ledger: L, config: GroupCommitConfig) -> Self {
        GroupCommit {
            ledger,
            config,
            queue: Arc::new(OnceLock::new()),
        }
    }

    /// Runs a batch, in a group with the batches queued with it (or alone, when group commit
    /// is off), and returns its own outcome.
    pub async fn execute(&self, batch: LedgerBatch) -> Result<LedgerOutcome, StoreError> {
        if !self.config.enabled {
            let mut outcomes = self.ledger.execute(vec![batch]).await?;
            return outcomes.pop().ok_or_else(missing_outcome);
        }
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            batch,
            reply,
            queued_at: Instant::now(),
        };
        self.queue().send(job).await.map_err(|_| writer_gone())?;
        outcome.await.map_err(|_| writer_gone())?
    }

    fn queue(&self) -> &mpsc::Sender<Job> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
            tokio::spawn(write_groups(self.ledger.clone(), self.config, receiver));
            sender
        })
    }
}

/// The writer: forms groups from the queue and runs them, one at a time, until every sender
/// is gone.
async fn write_groups<L: Ledger>(
    ledger: L,
    config: GroupCommitConfig,
    mut queue: mpsc::Receiver<Job>,
) {
    let mut carried = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let (group, next) = form_group(first, &mut queue, &config).await;
        carried = next;
        run_group(&ledger, group).await;
    }
}

/// Takes what joins `first` within the limits; a job that does not fit (too many commands,
/// or a key already in the group) is returned to start the next group.
async fn form_group(
    first: Job,
    queue: &mut mpsc::Receiver<Job>,
    config: &GroupCommitConfig,
) -> (Vec<Job>, Option<Job>) {
    let deadline = tokio::time::Instant::now() + config.max_wait;
    let mut commands = first.batch.commands.len();
    let mut keys: HashSet<(String, String)> = key_of(&first).into_iter().collect();
    let mut group = vec![first];
    while commands < config.max_commands {
        let job = match queue.try_recv() {
            Ok(job) => job,
            Err(_) if config.max_wait.is_zero() => break,
            Err(_) => match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(job)) => job,
                Ok(None) | Err(_) => break,
            },
        };
        let size = job.batch.commands.len();
        let key = key_of(&job);
        let repeated = key.as_ref().is_some_and(|key| keys.contains(key));
        if commands + size > config.max_commands || repeated {
            return (group, Some(job));
        }
        commands += size;
        keys.extend(key);
        group.push(job);
    }
    (group, None)
}

/// The idempotency key a job claims: two claims of one key never share a group.
fn key_of(job: &Job) -> Option<(String, String)> {
    let claim = job.batch.idempotency.as_ref()?;
    Some((claim.scope.clone(), claim.key.clone()))
}

/// Runs a group and answers each of its requests.
async fn run_group<L: Ledger>(ledger: &L, group: Vec<Job>) {
    let started = Instant::now();
    let commands: usize = group.iter().map(|job| job.batch.commands.len()).sum();
    let mut batches = Vec::with_capacity(group.len());
    let mut replies = Vec::with_capacity(group.len());
    for job in group {
        metrics::histogram!("coffre_ledger_group_queue_wait_seconds")
            .record(started.duration_since(job.queued_at));
        batches.push(job.batch);
        replies.push(job.reply);
    }
    metrics::histogram!("coffre_ledger_group_requests").record(replies.len() as f64);
    metrics::histogram!("coffre_ledger_group_commands").record(commands as f64);
    let result = ledger.execute(batches).await;
    metrics::histogram!("coffre_ledger_group_commit_seconds").record(started.elapsed());
    match result {
        Ok(outcomes) if outcomes.len() == replies.len() => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A request that gave up (its client went away) no longer listens.
                let _ = reply.send(Ok(outcome));
            }
        }
        Ok(_) => {
            for reply in replies {
                let _ = reply.send(Err(missing_outcome()));
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, requests = replies.len(), "a ledger group failed");
            for reply in replies {
                let _ = reply.send(Err(shared(&error)));
            }
        }
    }
}

/// The error of a failed group, for each of its requests.
fn shared(error: &StoreError) -> StoreError {
    match error {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(kind) => StoreError::Conflict(*kind),
        StoreError::Unavailable(cause) => StoreError::Unavailable(anyhow::anyhow!("{cause:#}")),
        StoreError::Unknown(cause) => StoreError::Unknown(anyhow::anyhow!("{cause:#}")),
    }
}

fn missing_outcome() -> StoreError {
    StoreError::Unknown(anyhow::anyhow!(
        "the engine returned no outcome for a batch"
    ))
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("the ledger writer has stopped"))
}
