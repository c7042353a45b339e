//! Batches of transactions: each item is checked on its own, the ones that pass go to the
//! engine together, and every item gets its own result.
//!
//! An item is refused either before the engine runs (who may ask for it, where it goes) or by
//! the engine (the money rules). The engine answers only the commands it was given, so the two
//! kinds of result live in different lists; each item keeps the id of the command made for it
//! and finds its engine result by that id, never by counting positions (which once gave an
//! item refused early the next item's result).

use std::collections::HashMap;

use coffre_domain::ledger::{Applied, LedgerCommand, LedgerError};
use uuid::Uuid;

use super::{NewTransaction, Recorded, booked, recorded};
use crate::idempotency::IdempotentRequest;
use crate::ports::{BatchResults, Clock, Respond, Storage, StoredResponse};
use crate::{AppError, Principal, Service};

/// The most transactions one batch may hold.
pub const MAX_BATCH: usize = 1000;

/// What one item of a batch came to.
#[derive(Debug)]
pub enum BatchItem {
    /// Booked.
    Committed(coffre_domain::ledger::Transaction),
    /// Refused, with the error a single request would have had.
    Refused(AppError),
    /// Accepted, but not written: another item of the atomic batch was refused.
    RolledBack,
}

/// What a batch came to, in request order.
#[derive(Debug)]
pub struct BatchOutcome {
    /// Whether the batch was all-or-nothing.
    pub atomic: bool,
    /// False when an atomic batch wrote nothing.
    pub committed: bool,
    /// One entry per request.
    pub items: Vec<BatchItem>,
}

/// Renders the response of a batch.
pub type RespondBatch = Box<dyn FnOnce(BatchOutcome) -> StoredResponse + Send>;

/// An item of a batch once checked: refused before the engine, or sent to it as the command
/// with this id.
#[derive(Debug)]
enum Checked {
    Refused(AppError),
    Sent(Uuid),
}

/// The items of a batch as checked, and the commands sent to the engine for the ones that
/// passed.
#[derive(Debug, Default)]
struct Plan {
    items: Vec<Checked>,
    commands: Vec<LedgerCommand>,
}

impl Plan {
    fn push(&mut self, checked: Result<LedgerCommand, AppError>) {
        match checked {
            Ok(command) => {
                self.items.push(Checked::Sent(command.id));
                self.commands.push(command);
            }
            Err(error) => self.items.push(Checked::Refused(error)),
        }
    }

    fn refused_before_the_engine(&self) -> bool {
        self.items
            .iter()
            .any(|item| matches!(item, Checked::Refused(_)))
    }

    /// Each item's result: its own refusal, or the engine's result for its command.
    fn outcome(self, sent: &[Uuid], results: &BatchResults, atomic: bool) -> BatchOutcome {
        let by_command = by_command(sent, results);
        let refused = self.refused_before_the_engine() || results.iter().any(Result::is_err);
        let committed = !(atomic && refused);
        let items = self
            .items
            .into_iter()
            .map(|item| match item {
                Checked::Refused(error) => BatchItem::Refused(error),
                Checked::Sent(id) => engine_item(by_command.get(&id).copied(), committed),
            })
            .collect();
        BatchOutcome {
            atomic,
            committed,
            items,
        }
    }
}

/// The engine's results by the id of the command each answers. The engine answers its
/// commands one for one, in order (the port's contract); a count that disagrees is a bug, and
/// then no item gets a result it might not own.
fn by_command<'a>(
    sent: &[Uuid],
    results: &'a BatchResults,
) -> HashMap<Uuid, &'a Result<Applied, LedgerError>> {
    if sent.len() != results.len() {
        tracing::error!(
            commands = sent.len(),
            results = results.len(),
            "the engine answered a batch with the wrong number of results"
        );
        return HashMap::new();
    }
    sent.iter().copied().zip(results).collect()
}

/// The result of an item sent to the engine, from the engine's result for its command.
fn engine_item(result: Option<&Result<Applied, LedgerError>>, committed: bool) -> BatchItem {
    match result {
        Some(Err(error)) => BatchItem::Refused(error.clone().into()),
        // An atomic batch with a refusal wrote nothing, so nothing else was booked (and with
        // a refusal found before the engine, nothing even ran).
        _ if !committed => BatchItem::RolledBack,
        Some(Ok(applied)) => match booked(applied) {
            Ok(transaction) => BatchItem::Committed(transaction),
            Err(error) => BatchItem::Refused(error),
        },
        None => BatchItem::Refused(AppError::Unknown(anyhow::anyhow!(
            "the engine returned no result for this item"
        ))),
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Posts up to [`MAX_BATCH`] transactions, each with its own result. With `atomic`, any
    /// refusal means nothing is written.
    pub async fn post_batch(
        &self,
        caller: &Principal,
        requests: Vec<NewTransaction>,
        atomic: bool,
        idempotency: IdempotentRequest,
        respond: RespondBatch,
    ) -> Result<Recorded, AppError> {
        if requests.is_empty() || requests.len() > MAX_BATCH {
            return Err(AppError::invalid(
                "transactions",
                format!("a batch holds 1 to {MAX_BATCH} transactions"),
            ));
        }
        let _guard = self.enter_in_flight(caller, &idempotency)?;
        let mut plan = Plan::default();
        for request in requests {
            match self.command_for(caller, request).await {
                // A failing database fails the whole batch, not one item.
                Err(error @ (AppError::Unavailable(_) | AppError::Unknown(_))) => {
                    return Err(error);
                }
                checked => plan.push(checked),
            }
        }
        if atomic && plan.refused_before_the_engine() {
            // All or nothing, and something is already refused: the engine runs nothing, but
            // still records the response under the key.
            plan.commands.clear();
        }
        let commands = std::mem::take(&mut plan.commands);
        let sent: Vec<Uuid> = commands.iter().map(|command| command.id).collect();
        let respond: Respond =
            Box::new(move |results| respond(plan.outcome(&sent, results, atomic)));
        let claim = self.claim(caller, idempotency, respond);
        let outcome = self
            .run_ledger(self.batch(caller, commands, atomic, claim))
            .await?;
        recorded(outcome)
    }
}
