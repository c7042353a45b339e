//! Hold use cases: placing, reading, capturing and releasing card-style holds, and marking the
//! ones that reached their expiry.
//!
//! Every change goes through [`Ledger::execute`](crate::ports::Ledger::execute). Ownership is
//! checked before, on a pre-read of the account: a hold's account and an account's owner never
//! change, so the pre-read cannot go stale.

use coffre_domain::events::Actor;
use coffre_domain::ledger::{Applied, Hold, HoldId, LedgerCommand, LedgerRequest};
use coffre_domain::{Account, AccountId, Money};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::idempotency::IdempotentRequest;
use crate::ledger::{Recorded, RespondOne, recorded};
use crate::ports::{
    BatchResults, Clock, LedgerBatch, LedgerOutcome, Respond, Storage, StoredResponse,
};
use crate::{AppError, Principal, Service};

/// How long a hold lasts when the client names no expiry.
pub const DEFAULT_HOLD_DURATION: time::Duration = time::Duration::days(7);

/// How many expired holds one sweep marks at most (the next sweep takes the rest).
pub const EXPIRY_SWEEP_LIMIT: u32 = 500;

/// A validated request to place a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceHold {
    /// The amount to reserve (positive).
    pub amount: Money,
    /// When it lapses; default [`DEFAULT_HOLD_DURATION`] from now.
    pub expires_at: Option<OffsetDateTime>,
}

/// Renders the response of a hold request: the hold or the refusal.
pub type RespondHold = Box<dyn FnOnce(Result<Hold, AppError>) -> StoredResponse + Send>;

/// The first result of a one-command batch, as what `pick` takes from it, or the refusal.
fn first_result<T>(
    results: &BatchResults,
    pick: impl FnOnce(&Applied) -> Option<T>,
) -> Result<T, AppError> {
    match results.first() {
        Some(Ok(applied)) => pick(applied)
            .ok_or_else(|| AppError::Unknown(anyhow::anyhow!("the engine returned no value"))),
        Some(Err(error)) => Err(AppError::from(error.clone())),
        None => Err(AppError::Unknown(anyhow::anyhow!(
            "the engine returned no result"
        ))),
    }
}

/// Who may move or reserve money on an account: its owner, or tellers and admins. Anyone else
/// who may not even read it gets 404; an auditor gets 403.
pub(crate) fn require_operator(caller: &Principal, account: &Account) -> Result<(), AppError> {
    caller.require_read(account.customer_id)?;
    if caller.is_customer(account.customer_id) {
        Ok(())
    } else {
        caller.require_servicing_staff()
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Runs a one-command batch under an idempotency key; `respond` renders what the
    /// command did (stored with the key, and sent). The caller holds the key's in-flight guard.
    async fn execute_claimed(
        &self,
        caller: &Principal,
        request: LedgerRequest,
        idempotency: IdempotentRequest,
        respond: Respond,
    ) -> Result<Recorded, AppError> {
        let claim = self.claim(caller, idempotency, respond);
        let batch = LedgerBatch {
            commands: vec![LedgerCommand {
                id: Uuid::now_v7(),
                request,
            }],
            atomic: true,
            actor: caller.actor(),
            now: self.clock.now(),
            policy: self.config.ledger,
            idempotency: Some(claim),
        };
        recorded(self.run_ledger(batch).await?)
    }

    /// Reads a hold and its account, refusing (404) a caller who may not read the account.
    async fn readable_hold(
        &self,
        caller: &Principal,
        id: HoldId,
    ) -> Result<(Hold, Account), AppError> {
        let hold = self.store.get_hold(id).await?;
        let account = self.store.get_account(hold.account_id).await?;
        caller.require_read(account.customer_id)?;
        Ok((hold, account))
    }

    /// Places a hold on an account (owner, teller, admin).
    pub async fn place_hold(
        &self,
        caller: &Principal,
        account_id: AccountId,
        request: PlaceHold,
        idempotency: IdempotentRequest,
        respond: RespondHold,
    ) -> Result<Recorded, AppError> {
        let _guard = self.enter_in_flight(caller, &idempotency)?;
        let account = self.store.get_account(account_id).await?;
        require_operator(caller, &account)?;
        let expires_at = request
            .expires_at
            .unwrap_or_else(|| self.clock.now() + DEFAULT_HOLD_DURATION);
        let command = LedgerRequest::PlaceHold {
            account: account_id,
            amount: request.amount,
            expires_at,
        };
        let respond: Respond =
            Box::new(move |results| respond(first_result(results, |a| a.hold.clone())));
        self.execute_claimed(caller, command, idempotency, respond)
            .await
    }

    /// Reads a hold: the account's owner or staff; anyone else gets 404.
    pub async fn get_hold(&self, caller: &Principal, id: HoldId) -> Result<Hold, AppError> {
        Ok(self.readable_hold(caller, id).await?.0)
    }

    /// Captures a hold, in whole or in part (the rest is freed): books a `HOLD_CAPTURE`
    /// transaction to the card settlement account.
    pub async fn capture_hold(
        &self,
        caller: &Principal,
        id: HoldId,
        amount: Option<Money>,
        idempotency: IdempotentRequest,
        respond: RespondOne,
    ) -> Result<Recorded, AppError> {
        let _guard = self.enter_in_flight(caller, &idempotency)?;
        let (hold, account) = self.readable_hold(caller, id).await?;
        require_operator(caller, &account)?;
        self.require_step_up(caller, amount.unwrap_or(hold.amount))?;
        let command = LedgerRequest::CaptureHold {
            hold: id,
            amount,
            label: None,
        };
        let respond: Respond =
            Box::new(move |results| respond(first_result(results, |a| a.transaction.clone())));
        self.execute_claimed(caller, command, idempotency, respond)
            .await
    }

    /// Releases a hold without moving money.
    pub async fn release_hold(
        &self,
        caller: &Principal,
        id: HoldId,
        idempotency: IdempotentRequest,
        respond: RespondHold,
    ) -> Result<Recorded, AppError> {
        let _guard = self.enter_in_flight(caller, &idempotency)?;
        let (_, account) = self.readable_hold(caller, id).await?;
        require_operator(caller, &account)?;
        let command = LedgerRequest::ReleaseHold { hold: id };
        let respond: Respond =
            Box::new(move |results| respond(first_result(results, |a| a.hold.clone())));
        self.execute_claimed(caller, command, idempotency, respond)
            .await
    }

    /// Marks the holds that expired by now (at most [`EXPIRY_SWEEP_LIMIT`]); for the periodic
    /// sweep.
    pub async fn expire_due_holds(&self) -> Result<usize, AppError> {
        self.expire_holds(self.clock.now(), EXPIRY_SWEEP_LIMIT)
            .await
    }

    /// Marks up to `limit` active holds that reached their expiry before `now` as `EXPIRED`
    /// (they already reserve nothing; this records it). Returns how many were marked. A hold
    /// captured or released meanwhile is refused by the engine and simply skipped.
    pub async fn expire_holds(&self, now: OffsetDateTime, limit: u32) -> Result<usize, AppError> {
        let expired = self.store.expired_holds(now, limit).await?;
        if expired.is_empty() {
            return Ok(0);
        }
        let batch = LedgerBatch {
            commands: expired
                .into_iter()
                .map(|hold| LedgerCommand {
                    id: Uuid::now_v7(),
                    request: LedgerRequest::ExpireHold { hold },
                })
                .collect(),
            atomic: false,
            actor: Actor::System,
            now,
            policy: self.config.ledger,
            idempotency: None,
        };
        let marked = match self.run_ledger(batch).await? {
            LedgerOutcome::Executed { results, .. } => results.iter().filter(|r| r.is_ok()).count(),
            LedgerOutcome::Replayed(_) | LedgerOutcome::KeyReused => 0,
        };
        if marked > 0 {
            tracing::info!(count = marked, "expired holds marked");
        }
        Ok(marked)
    }
}
