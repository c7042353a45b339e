//! Transaction use cases: post one, post a batch, reverse, read, list.
//!
//! Who may move what is decided here, before the engine runs: the accounts a request names are
//! read first (an account's owner never changes, so this pre-read cannot go stale). A customer
//! naming an account that is not theirs gets 404, never 403. The money rules themselves are
//! the domain's `apply`, run by the store under lock.

use coffre_domain::ledger::{Applied, LedgerCommand, LedgerRequest, Transaction, TransactionId};
use coffre_domain::{AccountId, Iban, Money, Role};
use uuid::Uuid;

use crate::idempotency::IdempotentRequest;
use crate::ports::{
    BatchResults, Clock, LedgerBatch, LedgerOutcome, PasswordHasher, Respond, Storage,
    StoredResponse, TransactionFilter,
};
use crate::{AppError, Principal, Service};

/// The most transactions one batch may hold.
pub const MAX_BATCH: usize = 1000;

/// Where a transfer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An account, by id.
    Account(AccountId),
    /// An account, by IBAN (of this bank or, one day, another).
    Iban(Iban),
}

/// A validated request to move money (the shape per type is checked by the transport).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTransaction {
    /// Cash in (tellers, admins).
    Deposit {
        /// The account credited.
        account: AccountId,
        /// How much (positive).
        amount: Money,
        /// Statement text.
        label: Option<String>,
    },
    /// Cash out: staff from any account, a customer from their own.
    Withdrawal {
        /// The account debited.
        account: AccountId,
        /// How much (positive).
        amount: Money,
        /// Statement text.
        label: Option<String>,
    },
    /// Account to account: a customer from their own.
    Transfer {
        /// The account debited.
        source: AccountId,
        /// The account credited.
        destination: Destination,
        /// How much (positive).
        amount: Money,
        /// Statement text.
        label: Option<String>,
    },
}

/// The response to send for a money-moving request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The request ran now; this is what was stored under its key.
    Fresh(StoredResponse),
    /// The key was used before for the same request: the first response, again.
    Replayed(StoredResponse),
}

/// Renders the response of a single transaction request: the booked transaction or the
/// refusal.
pub type RespondOne = Box<dyn FnOnce(Result<Transaction, AppError>) -> StoredResponse + Send>;

/// What one item of a batch came to.
#[derive(Debug)]
pub enum BatchItem {
    /// Booked.
    Committed(Transaction),
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

/// One page of the transaction list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionPage {
    /// Newest first.
    pub items: Vec<Transaction>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<TransactionId>,
}

/// The first item of a batch's results, as a single request's outcome.
fn single_result(results: &BatchResults) -> Result<Transaction, AppError> {
    match results.first() {
        Some(Ok(applied)) => booked(applied),
        Some(Err(error)) => Err(AppError::from(error.clone())),
        None => Err(AppError::Unknown(anyhow::anyhow!(
            "the engine returned no result"
        ))),
    }
}

fn booked(applied: &Applied) -> Result<Transaction, AppError> {
    applied
        .transaction
        .clone()
        .ok_or_else(|| AppError::Unknown(anyhow::anyhow!("the engine booked no transaction")))
}

/// Merges the pre-checks' refusals with the engine's results (which cover, in order, the
/// items that passed them).
fn merge(checked: Vec<Option<AppError>>, results: &BatchResults, atomic: bool) -> BatchOutcome {
    let refused = checked.iter().any(Option::is_some) || results.iter().any(Result::is_err);
    let committed = !(atomic && refused);
    let mut engine = results.iter();
    let items = checked
        .into_iter()
        .map(|check| match (check, engine.next()) {
            (Some(error), _) => BatchItem::Refused(error),
            (None, Some(Err(error))) => BatchItem::Refused(error.clone().into()),
            (None, _) if !committed => BatchItem::RolledBack,
            (None, Some(Ok(applied))) => match booked(applied) {
                Ok(transaction) => BatchItem::Committed(transaction),
                Err(error) => BatchItem::Refused(error),
            },
            (None, None) => BatchItem::Refused(AppError::Unknown(anyhow::anyhow!(
                "the engine returned too few results"
            ))),
        })
        .collect();
    BatchOutcome {
        atomic,
        committed,
        items,
    }
}

/// The stored response of an engine outcome.
fn recorded(outcome: LedgerOutcome) -> Result<Recorded, AppError> {
    match outcome {
        LedgerOutcome::Executed {
            response: Some(response),
            ..
        } => Ok(Recorded::Fresh(response)),
        LedgerOutcome::Executed { response: None, .. } => Err(AppError::Unknown(anyhow::anyhow!(
            "the engine stored no response for an idempotent request"
        ))),
        LedgerOutcome::Replayed(response) => Ok(Recorded::Replayed(response)),
        LedgerOutcome::KeyReused => Err(AppError::IdempotencyKeyReused),
    }
}

impl<S: Storage, H: PasswordHasher, C: Clock> Service<S, H, C> {
    /// Posts one transaction under an idempotency key. Refusals found before the engine runs
    /// (roles, unknown accounts, addresses) are returned; the engine's own refusals are
    /// rendered by `respond` and stored with the key like a success.
    pub async fn post_transaction(
        &self,
        caller: &Principal,
        request: NewTransaction,
        idempotency: IdempotentRequest,
        respond: RespondOne,
    ) -> Result<Recorded, AppError> {
        let _guard = self.enter_in_flight(caller, &idempotency)?;
        let command = self.command_for(caller, request).await?;
        let respond: Respond = Box::new(move |results| respond(single_result(results)));
        let claim = self.claim(caller, idempotency, respond);
        let outcome = self
            .run_ledger(self.batch(caller, vec![command], false, claim))
            .await?;
        recorded(outcome)
    }

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
        let mut commands = Vec::with_capacity(requests.len());
        let mut checked = Vec::with_capacity(requests.len());
        for request in requests {
            match self.command_for(caller, request).await {
                Ok(command) => {
                    commands.push(command);
                    checked.push(None);
                }
                // A failing database fails the whole batch, not one item.
                Err(error @ (AppError::Unavailable(_) | AppError::Unknown(_))) => {
                    return Err(error);
                }
                Err(error) => checked.push(Some(error)),
            }
        }
        if atomic && checked.iter().any(Option::is_some) {
            // All or nothing, and something is already refused: the engine runs nothing, but
            // still records the response under the key.
            commands.clear();
        }
        let respond: Respond = Box::new(move |results| respond(merge(checked, results, atomic)));
        let claim = self.claim(caller, idempotency, respond);
        let outcome = self
            .run_ledger(self.batch(caller, commands, atomic, claim))
            .await?;
        recorded(outcome)
    }

    /// Reverses a completed transaction (tellers, admins) with its mirror image.
    pub async fn reverse_transaction(
        &self,
        caller: &Principal,
        original: TransactionId,
        label: Option<String>,
        idempotency: IdempotentRequest,
        respond: RespondOne,
    ) -> Result<Recorded, AppError> {
        caller.require_servicing_staff()?;
        let _guard = self.enter_in_flight(caller, &idempotency)?;
        let respond: Respond = Box::new(move |results| respond(single_result(results)));
        let claim = self.claim(caller, idempotency, respond);
        let command = LedgerCommand {
            id: Uuid::now_v7(),
            request: LedgerRequest::Reverse { original, label },
        };
        let outcome = self
            .run_ledger(self.batch(caller, vec![command], false, claim))
            .await?;
        recorded(outcome)
    }

    /// Reads a transaction: staff, or the owner of its source or destination account; anyone
    /// else gets 404.
    pub async fn get_transaction(
        &self,
        caller: &Principal,
        id: TransactionId,
    ) -> Result<Transaction, AppError> {
        let transaction = self.store.get_transaction(id).await?;
        if caller.role.is_staff() {
            return Ok(transaction);
        }
        for account in [transaction.source, transaction.destination]
            .into_iter()
            .flatten()
        {
            if self.owns(caller, account).await? {
                return Ok(transaction);
            }
        }
        Err(AppError::NotFound)
    }

    /// Lists transactions, newest first (staff only), after the `before` cursor.
    pub async fn list_transactions(
        &self,
        caller: &Principal,
        filter: TransactionFilter,
        before: Option<TransactionId>,
        limit: u32,
    ) -> Result<TransactionPage, AppError> {
        caller.require_staff()?;
        // One more than asked tells whether a next page exists.
        let mut items = self
            .store
            .list_transactions(&filter, before, limit.saturating_add(1))
            .await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = more.then(|| items.last().map(|t| t.id)).flatten();
        Ok(TransactionPage { items, next_cursor })
    }

    fn batch(
        &self,
        caller: &Principal,
        commands: Vec<LedgerCommand>,
        atomic: bool,
        claim: crate::ports::IdempotencyClaim,
    ) -> LedgerBatch {
        LedgerBatch {
            commands,
            atomic,
            actor: caller.actor(),
            now: self.clock.now(),
            policy: self.config.ledger,
            idempotency: Some(claim),
        }
    }

    /// True when `caller` is a customer who owns `account` (which must exist).
    async fn owns(&self, caller: &Principal, account: AccountId) -> Result<bool, AppError> {
        match self.store.get_account(account).await {
            Ok(account) => Ok(caller.is_customer(account.customer_id)),
            Err(crate::ports::StoreError::NotFound) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Refuses, with 404, a customer debiting an account that is not theirs; staff who
    /// service accounts may debit any.
    async fn require_debit_right(
        &self,
        caller: &Principal,
        account: AccountId,
    ) -> Result<(), AppError> {
        match caller.role {
            Role::Teller | Role::Admin => Ok(()),
            Role::Customer if self.owns(caller, account).await? => Ok(()),
            Role::Customer => Err(AppError::NotFound),
            Role::Auditor => Err(AppError::Forbidden),
        }
    }

    /// Refuses a customer's large transfer without a recent one-time code (`mfa_required`).
    /// Staff move customers' money under the bank's own controls, not the customer's factor.
    fn require_step_up(&self, caller: &Principal, amount: Money) -> Result<(), AppError> {
        let policy = self.config.step_up;
        // Paying a new beneficiary of another bank will need step-up too; no such transfer
        // exists until inter-bank transfers do (`resolve` refuses them).
        if caller.role == Role::Customer && policy.applies_to(amount, false) {
            policy.require(caller, self.clock.now())?;
        }
        Ok(())
    }

    /// Checks who may ask for `request`, resolves its addresses, and makes the engine command.
    async fn command_for(
        &self,
        caller: &Principal,
        request: NewTransaction,
    ) -> Result<LedgerCommand, AppError> {
        let request = match request {
            NewTransaction::Deposit {
                account,
                amount,
                label,
            } => {
                caller.require_servicing_staff()?;
                LedgerRequest::Deposit {
                    account,
                    amount,
                    label,
                }
            }
            NewTransaction::Withdrawal {
                account,
                amount,
                label,
            } => {
                self.require_debit_right(caller, account).await?;
                LedgerRequest::Withdrawal {
                    account,
                    amount,
                    label,
                }
            }
            NewTransaction::Transfer {
                source,
                destination,
                amount,
                label,
            } => {
                self.require_debit_right(caller, source).await?;
                self.require_step_up(caller, amount)?;
                let (destination, counterparty_iban) = self.resolve(destination).await?;
                LedgerRequest::Transfer {
                    source,
                    destination,
                    amount,
                    label,
                    counterparty_iban,
                }
            }
        };
        Ok(LedgerCommand {
            id: Uuid::now_v7(),
            request,
        })
    }

    /// The account a transfer goes to; an IBAN must be one of this bank's accounts.
    async fn resolve(
        &self,
        destination: Destination,
    ) -> Result<(AccountId, Option<Iban>), AppError> {
        let iban = match destination {
            Destination::Account(id) => return Ok((id, None)),
            Destination::Iban(iban) => iban,
        };
        if let Some(id) = self.store.account_id_by_iban(&iban).await? {
            return Ok((id, Some(iban)));
        }
        let ours = iban.country_code() == "FR"
            && iban.electronic().get(4..9) == Some(self.config.bank.bank_code.as_str());
        let message = if ours {
            "no account of this bank has this IBAN"
        } else {
            "inter-bank transfers are not available yet"
        };
        Err(AppError::invalid("destination_iban", message))
    }
}
