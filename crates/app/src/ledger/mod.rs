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
    BatchResults, Clock, LedgerBatch, LedgerOutcome, Respond, Storage, StoredResponse,
    TransactionFilter,
};
use crate::{AppError, Principal, Service};

mod batch;

pub use batch::{BatchItem, BatchOutcome, MAX_BATCH, RespondBatch};

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

impl NewTransaction {
    /// What the request takes out of a customer's account: nothing for a deposit.
    fn money_out(&self) -> Option<Money> {
        match self {
            NewTransaction::Deposit { .. } => None,
            NewTransaction::Withdrawal { amount, .. } | NewTransaction::Transfer { amount, .. } => {
                Some(*amount)
            }
        }
    }
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

/// The stored response of an engine outcome under an idempotency key.
pub(crate) fn recorded(outcome: LedgerOutcome) -> Result<Recorded, AppError> {
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

impl<S: Storage, C: Clock> Service<S, C> {
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

    /// Refuses a customer's movement of more than the step-up threshold out of their account
    /// without a recent one-time code (`mfa_required`). Every door money leaves by asks here:
    /// withdrawals and transfers (alone or as items of a batch, through `command_for`) and hold
    /// captures. Staff move customers' money under the bank's own controls, not the customer's
    /// factor.
    pub(crate) fn require_step_up(
        &self,
        caller: &Principal,
        money_out: Money,
    ) -> Result<(), AppError> {
        let policy = self.config.step_up;
        // Paying a new beneficiary of another bank will need step-up too; no such transfer
        // exists until inter-bank transfers do (`resolve` refuses them).
        if caller.role == Role::Customer && policy.applies_to(money_out, false) {
            policy.require(caller, self.clock.now())?;
        }
        Ok(())
    }

    /// Refuses a caller who may not ask for `request` at all.
    async fn require_right(
        &self,
        caller: &Principal,
        request: &NewTransaction,
    ) -> Result<(), AppError> {
        match request {
            NewTransaction::Deposit { .. } => caller.require_servicing_staff(),
            NewTransaction::Withdrawal { account, .. } => {
                self.require_debit_right(caller, *account).await
            }
            NewTransaction::Transfer { source, .. } => {
                self.require_debit_right(caller, *source).await
            }
        }
    }

    /// Checks who may ask for `request` (their right to it, then step-up), resolves its
    /// addresses, and makes the engine command.
    async fn command_for(
        &self,
        caller: &Principal,
        request: NewTransaction,
    ) -> Result<LedgerCommand, AppError> {
        self.require_right(caller, &request).await?;
        if let Some(money_out) = request.money_out() {
            self.require_step_up(caller, money_out)?;
        }
        let request = match request {
            NewTransaction::Deposit {
                account,
                amount,
                label,
            } => LedgerRequest::Deposit {
                account,
                amount,
                label,
            },
            NewTransaction::Withdrawal {
                account,
                amount,
                label,
            } => LedgerRequest::Withdrawal {
                account,
                amount,
                label,
            },
            NewTransaction::Transfer {
                source,
                destination,
                amount,
                label,
            } => {
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
