//! The engine-independent steps of running a *group* of batches in one database transaction
//! (group commit): taking the batches apart, sorting out their idempotency keys, applying
//! each batch to the state the batches before it left, and rendering the responses to store.
//! Each adapter claims, locks, reads and writes around these with its own SQL.

use std::collections::HashSet;

use coffre_app::ports::{
    BatchResults, LedgerBatch, LedgerOutcome, Respond, StoreError, StoredResponse,
};
use coffre_domain::events::{Actor, Event};
use coffre_domain::ledger::{LedgerCommand, LedgerPolicy, LedgerState, apply};
use time::OffsetDateTime;

use crate::ledger_plan::{LedgerDiff, Touched, discards, events_of, ledger_diff, touched};
use crate::ledger_rows::IdempotencyRow;
use crate::writes::stored_instant;

/// An idempotency key as a batch claims it, without the renderer of its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Whose key it is.
    pub scope: String,
    /// The client's key.
    pub key: String,
    /// What the request asked.
    pub fingerprint: String,
    /// When the record may be purged.
    pub expires_at: OffsetDateTime,
}

/// A batch of a group, without its renderer: what the adapter reads, locks and applies.
#[derive(Debug)]
pub struct Member {
    /// The commands, applied in order.
    pub commands: Vec<LedgerCommand>,
    /// All or nothing.
    pub atomic: bool,
    /// Who asks.
    pub actor: Actor,
    /// The bank's ledger settings.
    pub policy: LedgerPolicy,
    /// The idempotency key, when the client sent one.
    pub claim: Option<Claim>,
}

/// A group taken apart. The renderers are kept apart from the members because they are
/// `Send` but not `Sync`: the members may be borrowed across an `await`, the renderers not.
pub struct SplitGroup {
    /// The batches, in group order.
    pub members: Vec<Member>,
    /// Each batch's renderer (with its claim).
    pub responders: Vec<Option<Respond>>,
    /// The instant the whole group is booked at: the latest of its batches', at the stored
    /// precision, so that postings stay in time order and what is returned is what is read.
    pub now: OffsetDateTime,
}

/// Takes a group apart. Two batches claiming one key are a bug of the caller (it keeps them
/// in separate groups), refused before anything is read.
pub fn split_group(group: Vec<LedgerBatch>) -> Result<SplitGroup, StoreError> {
    let mut keys = HashSet::new();
    let mut now = None;
    let mut members = Vec::with_capacity(group.len());
    let mut responders = Vec::with_capacity(group.len());
    for batch in group {
        now = now.max(Some(batch.now));
        let (claim, respond) = match batch.idempotency {
            Some(claim) => {
                if !keys.insert((claim.scope.clone(), claim.key.clone())) {
                    return Err(StoreError::Unknown(anyhow::anyhow!(
                        "two batches of one group claim the same idempotency key"
                    )));
                }
                let key = Claim {
                    scope: claim.scope,
                    key: claim.key,
                    fingerprint: claim.fingerprint,
                    expires_at: stored_instant(claim.expires_at),
                };
                (Some(key), Some(claim.respond))
            }
            None => (None, None),
        };
        members.push(Member {
            commands: batch.commands,
            atomic: batch.atomic,
            actor: batch.actor,
            policy: batch.policy,
            claim,
        });
        responders.push(respond);
    }
    let now = now.ok_or_else(|| StoreError::Unknown(anyhow::anyhow!("an empty group")))?;
    Ok(SplitGroup {
        members,
        responders,
        now: stored_instant(now),
    })
}

/// What a key's stored record means for a batch claiming it: the first response again for the
/// same request, a refusal for another.
pub fn earlier_outcome(row: IdempotencyRow, claim: &Claim) -> Result<LedgerOutcome, StoreError> {
    if row.fingerprint() != claim.fingerprint {
        return Ok(LedgerOutcome::KeyReused);
    }
    Ok(LedgerOutcome::Replayed(StoredResponse::try_from(row)?))
}

/// What the batches that run (those without an `earlier` outcome) name, to lock and load.
pub fn touched_by(members: &[Member], earlier: &[Option<LedgerOutcome>]) -> Touched {
    let commands: Vec<&LedgerCommand> = members
        .iter()
        .zip(earlier)
        .filter(|(_, earlier)| earlier.is_none())
        .flat_map(|(member, _)| &member.commands)
        .collect();
    touched(commands)
}

/// What a group came to, before its responses are rendered.
#[derive(Debug)]
pub struct AppliedGroup {
    /// What to write.
    pub diff: LedgerDiff,
    /// The events to append, in order, with who caused each.
    pub events: Vec<(Event, Actor)>,
    /// Each batch's results, in group order (`None` for a batch answered from its key's
    /// record).
    pub results: Vec<Option<BatchResults>>,
}

/// Applies the batches that run, in order, each to the state the ones before it left. An
/// all-or-nothing batch with a refusal leaves the state as it found it.
pub fn apply_group(
    before: &LedgerState,
    members: &[Member],
    earlier: &[Option<LedgerOutcome>],
    now: OffsetDateTime,
) -> Result<AppliedGroup, StoreError> {
    let mut state = before.clone();
    let mut accepted: BatchResults = Vec::new();
    let mut events = Vec::new();
    let mut results = Vec::with_capacity(members.len());
    for (member, earlier) in members.iter().zip(earlier) {
        if earlier.is_some() {
            results.push(None);
            continue;
        }
        let restore_point = member.atomic.then(|| state.clone());
        let outcome = apply(&mut state, &member.commands, &member.policy, now);
        if discards(member.atomic, &outcome) {
            if let Some(restore_point) = restore_point {
                state = restore_point;
            }
        } else {
            events.extend(
                events_of(&outcome)
                    .into_iter()
                    .map(|event| (event, member.actor)),
            );
            accepted.extend(outcome.iter().cloned());
        }
        results.push(Some(outcome));
    }
    Ok(AppliedGroup {
        diff: ledger_diff(before, &state, &accepted)?,
        events,
        results,
    })
}

/// A response to store under a member's key.
#[derive(Debug)]
pub struct Record {
    /// The member's position in the group.
    pub member: usize,
    /// The response, as rendered.
    pub response: StoredResponse,
}

/// Renders the response of every batch that ran with a key, and makes the group's outcomes:
/// the records to store, then one outcome per batch in group order.
pub fn finish(
    results: Vec<Option<BatchResults>>,
    earlier: Vec<Option<LedgerOutcome>>,
    responders: Vec<Option<Respond>>,
) -> Result<(Vec<Record>, Vec<LedgerOutcome>), StoreError> {
    let mut records = Vec::new();
    let mut outcomes = Vec::with_capacity(results.len());
    let members = results.into_iter().zip(earlier).zip(responders).enumerate();
    for (member, ((results, earlier), respond)) in members {
        let outcome = match (earlier, results) {
            (Some(earlier), _) => earlier,
            (None, Some(results)) => {
                let response = respond.map(|respond| respond(&results));
                if let Some(response) = &response {
                    records.push(Record {
                        member,
                        response: response.clone(),
                    });
                }
                LedgerOutcome::Executed { results, response }
            }
            (None, None) => {
                return Err(StoreError::Unknown(anyhow::anyhow!(
                    "a batch of the group neither ran nor had an earlier outcome"
                )));
            }
        };
        outcomes.push(outcome);
    }
    Ok((records, outcomes))
}
