//! Domain events and the hash chain that makes the event log tamper-evident.
//!
//! Every state change of a customer, an account, a transaction or a hold is recorded as an
//! [`Event`] in the same database transaction as the change itself. Stored events form a chain:
//! each one's hash covers the previous one's hash and its own [canonical bytes]
//! (EventRecord::canonical_bytes), so altering, inserting or deleting any stored event breaks
//! every hash from that event on, which [`verify_chain`] finds.
//!
//! Payloads hold identifiers, amounts and statuses, never personal data (names, e-mail,
//! addresses): the log is immutable, and personal data must stay erasable.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::{Account, AccountId, AccountStatus, AccountType};
use crate::customer::{Customer, CustomerId, KycStatus};
use crate::ledger::{Direction, Hold, HoldId, Transaction, TransactionId, TransactionType};
use crate::money::Currency;
use crate::user::UserId;

/// Who caused a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A logged-in user (customer or staff).
    User(UserId),
    /// Coffre itself (expiring holds, for instance).
    System,
}

impl Actor {
    /// The stored form: `user:<uuid>` or `system`.
    pub fn as_text(self) -> String {
        match self {
            Actor::User(id) => format!("user:{}", id.0),
            Actor::System => "system".to_owned(),
        }
    }
}

/// One line of a [`Event::TransactionCompleted`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingRecord {
    /// The account (customer or internal) id.
    pub account_id: Uuid,
    /// Debit or credit.
    pub direction: Direction,
    /// The amount, in minor units.
    pub amount_minor: i64,
    /// The account's balance right after the posting.
    pub balance_after_minor: i64,
}

/// Something that happened, with what it takes to replay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// A customer signed up (or was registered by a teller).
    CustomerRegistered {
        /// The customer.
        customer_id: CustomerId,
        /// Their KYC status at sign-up.
        kyc_status: KycStatus,
    },
    /// A customer's KYC review ended.
    CustomerKycDecided {
        /// The customer.
        customer_id: CustomerId,
        /// `VERIFIED` or `REJECTED`.
        kyc_status: KycStatus,
    },
    /// An account was opened.
    AccountCreated {
        /// The account.
        account_id: AccountId,
        /// Its owner.
        customer_id: CustomerId,
        /// Its IBAN (electronic form).
        iban: String,
        /// Its type.
        account_type: AccountType,
        /// Its currency.
        currency: Currency,
        /// Its status at opening.
        status: AccountStatus,
    },
    /// An account became `ACTIVE` because its owner's KYC was verified.
    AccountActivated {
        /// The account.
        account_id: AccountId,
    },
    /// The bank froze an account.
    AccountFrozen {
        /// The account.
        account_id: AccountId,
        /// The teller's reason.
        reason: Option<String>,
    },
    /// The bank lifted a freeze.
    AccountUnfrozen {
        /// The account.
        account_id: AccountId,
        /// The teller's reason.
        reason: Option<String>,
    },
    /// An account was closed (by its owner, a teller, or a KYC rejection).
    AccountClosed {
        /// The account.
        account_id: AccountId,
    },
    /// An account's settings changed (nickname, overdraft or daily limit).
    AccountSettingsChanged {
        /// The account.
        account_id: AccountId,
        /// Whether it has a nickname now (the text is the owner's, not the log's).
        has_nickname: bool,
        /// The overdraft limit, in minor units.
        overdraft_limit_minor: i64,
        /// The daily outgoing limit, in minor units (`None`: the bank's default).
        daily_limit_minor: Option<i64>,
    },
    /// Money moved: the transaction and its postings.
    TransactionCompleted {
        /// The transaction.
        transaction_id: TransactionId,
        /// Its type.
        transaction_type: TransactionType,
        /// The amount moved, in minor units.
        amount_minor: i64,
        /// Its currency.
        currency: Currency,
        /// The transaction a reversal undoes.
        reverses: Option<TransactionId>,
        /// The hold a capture came from.
        hold_id: Option<HoldId>,
        /// The postings.
        postings: Vec<PostingRecord>,
    },
    /// A transaction was undone by a reversal.
    TransactionReversed {
        /// The original transaction.
        transaction_id: TransactionId,
        /// The reversal that undid it.
        reversal_id: TransactionId,
    },
    /// A hold was placed.
    HoldPlaced {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
        /// The amount reserved, in minor units.
        amount_minor: i64,
        /// When it expires.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// A hold was captured (in whole or part; the rest was freed).
    HoldCaptured {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
        /// The amount captured, in minor units.
        captured_minor: i64,
        /// The transaction the capture booked.
        transaction_id: TransactionId,
    },
    /// A hold was released without moving money.
    HoldReleased {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
    },
    /// A hold reached its expiry.
    HoldExpired {
        /// The hold.
        hold_id: HoldId,
        /// Its account.
        account_id: AccountId,
    },
}

impl Event {
    /// The stream (aggregate) the event belongs to: the customer, account, transaction or hold.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Event::CustomerRegistered { customer_id, .. }
            | Event::CustomerKycDecided { customer_id, .. } => customer_id.0,
            Event::AccountCreated { account_id, .. }
            | Event::AccountActivated { account_id }
            | Event::AccountFrozen { account_id, .. }
            | Event::AccountUnfrozen { account_id, .. }
            | Event::AccountClosed { account_id }
            | Event::AccountSettingsChanged { account_id, .. } => account_id.0,
            Event::TransactionCompleted { transaction_id, .. }
            | Event::TransactionReversed { transaction_id, .. } => transaction_id.0,
            Event::HoldPlaced { hold_id, .. }
            | Event::HoldCaptured { hold_id, .. }
            | Event::HoldReleased { hold_id, .. }
            | Event::HoldExpired { hold_id, .. } => hold_id.0,
        }
    }

    /// The event's type name, e.g. `AccountFrozen`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::CustomerRegistered { .. } => "CustomerRegistered",
            Event::CustomerKycDecided { .. } => "CustomerKycDecided",
            Event::AccountCreated { .. } => "AccountCreated",
            Event::AccountActivated { .. } => "AccountActivated",
            Event::AccountFrozen { .. } => "AccountFrozen",
            Event::AccountUnfrozen { .. } => "AccountUnfrozen",
            Event::AccountClosed { .. } => "AccountClosed",
            Event::AccountSettingsChanged { .. } => "AccountSettingsChanged",
            Event::TransactionCompleted { .. } => "TransactionCompleted",
            Event::TransactionReversed { .. } => "TransactionReversed",
            Event::HoldPlaced { .. } => "HoldPlaced",
            Event::HoldCaptured { .. } => "HoldCaptured",
            Event::HoldReleased { .. } => "HoldReleased",
            Event::HoldExpired { .. } => "HoldExpired",
        }
    }

    /// The payload as stored: the event's fields as compact JSON with keys in a fixed order.
    pub fn payload_json(&self) -> Result<String, serde_json::Error> {
        let tagged = serde_json::to_value(self)?;
        let data = tagged
            .get("data")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        serde_json::to_string(&data)
    }

    /// Reads a stored event back from its type and payload.
    pub fn from_stored(event_type: &str, payload: &str) -> Result<Self, serde_json::Error> {
        let data: serde_json::Value = serde_json::from_str(payload)?;
        serde_json::from_value(serde_json::json!({ "type": event_type, "data": data }))
    }

    /// The event that records a new customer.
    pub fn customer_registered(customer: &Customer) -> Self {
        Event::CustomerRegistered {
            customer_id: customer.id,
            kyc_status: customer.kyc_status,
        }
    }

    /// The event that records a new account.
    pub fn account_created(account: &Account) -> Self {
        Event::AccountCreated {
            account_id: account.id,
            customer_id: account.customer_id,
            iban: account.iban.electronic().to_owned(),
            account_type: account.account_type,
            currency: account.currency,
            status: account.status,
        }
    }

    /// The events that say how a customer changed between two versions.
    pub fn customer_changes(before: &Customer, after: &Customer) -> Vec<Event> {
        if before.kyc_status != after.kyc_status {
            vec![Event::CustomerKycDecided {
                customer_id: after.id,
                kyc_status: after.kyc_status,
            }]
        } else {
            Vec::new()
        }
    }

    /// The events that say how an account changed between two versions, other than its
    /// balance (money moves are recorded by transaction events).
    pub fn account_changes(before: &Account, after: &Account) -> Vec<Event> {
        let mut events = Vec::new();
        let account_id = after.id;
        if before.status != after.status {
            events.push(match (before.status, after.status) {
                (_, AccountStatus::Closed) => Event::AccountClosed { account_id },
                (AccountStatus::Active, AccountStatus::Frozen) => Event::AccountFrozen {
                    account_id,
                    reason: after.status_reason.clone(),
                },
                (AccountStatus::Frozen, AccountStatus::Active) => Event::AccountUnfrozen {
                    account_id,
                    reason: after.status_reason.clone(),
                },
                _ => Event::AccountActivated { account_id },
            });
        }
        if before.nickname != after.nickname
            || before.overdraft_limit_minor != after.overdraft_limit_minor
            || before.daily_limit_minor != after.daily_limit_minor
        {
            events.push(Event::AccountSettingsChanged {
                account_id,
                has_nickname: after.nickname.is_some(),
                overdraft_limit_minor: after.overdraft_limit_minor,
                daily_limit_minor: after.daily_limit_minor,
            });
        }
        events
    }

    /// The event that records a booked transaction.
    pub fn transaction_completed(transaction: &Transaction) -> Self {
        Event::TransactionCompleted {
            transaction_id: transaction.id,
            transaction_type: transaction.transaction_type,
            amount_minor: transaction.amount.amount_minor(),
            currency: transaction.amount.currency(),
            reverses: transaction.reverses,
            hold_id: transaction.hold,
            postings: transaction
                .postings
                .iter()
                .map(|posting| PostingRecord {
                    account_id: posting.account.id(),
                    direction: posting.direction,
                    amount_minor: posting.amount.amount_minor(),
                    balance_after_minor: posting.balance_after_minor,
                })
                .collect(),
        }
    }

    /// The event that records a new hold.
    pub fn hold_placed(hold: &Hold) -> Self {
        Event::HoldPlaced {
            hold_id: hold.id,
            account_id: hold.account_id,
            amount_minor: hold.amount.amount_minor(),
            expires_at: hold.expires_at,
        }
    }
}

/// The hash that precedes the first event.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Where the chain stands: the last sequence appended and its hash. Stored beside the log and
/// moved in the same transaction as every append, it is what shows that events were cut off
/// the end of the log (a chain that simply stops early still checks out link by link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last sequence (0 before the first event).
    pub last_sequence: i64,
    /// Its hash ([`GENESIS_HASH`] before the first event).
    pub last_hash: [u8; 32],
}

impl ChainHead {
    /// Where a chain stands before its first event.
    pub const GENESIS: ChainHead = ChainHead {
        last_sequence: 0,
        last_hash: GENESIS_HASH,
    };

    /// Checks that a walk along the log that ended at `walked` reached this head: the same last
    /// sequence with the same hash. A walk that stops short means events were cut off the end
    /// (broken at the first missing one); a walk past the head means events the head never
    /// acknowledged; the same sequence with another hash means rewritten events whose hashes
    /// were recomputed, which only the head can still show.
    pub fn check_end(&self, walked: ChainHead) -> Result<(), BrokenLink> {
        let sequence = if walked.last_sequence < self.last_sequence {
            walked.last_sequence + 1
        } else if walked.last_sequence > self.last_sequence {
            self.last_sequence + 1
        } else if walked.last_hash != self.last_hash {
            self.last_sequence
        } else {
            return Ok(());
        };
        Err(BrokenLink { sequence })
    }
}

/// A stored event, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Position in the whole log, from 1, without gaps.
    pub sequence: i64,
    /// The stream (aggregate) id.
    pub stream_id: Uuid,
    /// Position in its stream, from 1.
    pub stream_version: i64,
    /// The event's type name.
    pub event_type: String,
    /// The payload, exactly as stored.
    pub payload: String,
    /// Who caused it (`user:<id>` or `system`).
    pub actor: String,
    /// When it was recorded.
    pub occurred_at: OffsetDateTime,
    /// The previous event's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: [u8; 32],
    /// `SHA-256(prev_hash ‖ canonical_bytes)`.
    pub hash: [u8; 32],
}

impl EventRecord {
    /// The bytes the hash covers: every field but the hashes, each length-prefixed so that no
    /// two different records share an encoding. Instants are written as Unix microseconds,
    /// the precision both databases keep.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(128 + self.payload.len());
        let mut field = |part: &[u8]| {
            bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
            bytes.extend_from_slice(part);
        };
        field(&self.sequence.to_be_bytes());
        field(self.stream_id.as_bytes());
        field(&self.stream_version.to_be_bytes());
        field(self.event_type.as_bytes());
        field(self.payload.as_bytes());
        field(self.actor.as_bytes());
        let micros = self.occurred_at.unix_timestamp_nanos() / 1_000;
        field(&micros.to_be_bytes());
        bytes
    }

    /// The hash this record must carry, given its fields and `prev_hash`.
    pub fn expected_hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash);
        hasher.update(self.canonical_bytes());
        hasher.finalize().into()
    }
}

/// Where a chain stops being intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenLink {
    /// The sequence number of the first event that does not check out.
    pub sequence: i64,
}

/// Checks records, in sequence order, against the hash of the event before them (`prev_hash`,
/// [`GENESIS_HASH`] for a log's start) and the sequence expected next. Returns the hash and
/// sequence of the last record, to continue with the next chunk, or the first broken link.
pub fn verify_chain<'a>(
    mut prev_hash: [u8; 32],
    mut next_sequence: i64,
    records: impl IntoIterator<Item = &'a EventRecord>,
) -> Result<([u8; 32], i64), BrokenLink> {
    for record in records {
        let intact = record.sequence == next_sequence
            && record.prev_hash == prev_hash
            && record.expected_hash() == record.hash;
        if !intact {
            return Err(BrokenLink {
                sequence: next_sequence.min(record.sequence),
            });
        }
        prev_hash = record.hash;
        next_sequence += 1;
    }
    Ok((prev_hash, next_sequence))
}

/// Builds the record for the event that follows `prev_hash` at `sequence`.
pub fn chain_record(
    prev_hash: [u8; 32],
    sequence: i64,
    stream_version: i64,
    event: &Event,
    actor: Actor,
    occurred_at: OffsetDateTime,
) -> Result<EventRecord, serde_json::Error> {
    let mut record = EventRecord {
        sequence,
        stream_id: event.stream_id(),
        stream_version,
        event_type: event.event_type().to_owned(),
        payload: event.payload_json()?,
        actor: actor.as_text(),
        occurred_at,
        prev_hash,
        hash: [0; 32],
    };
    record.hash = record.expected_hash();
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn chain(n: i64) -> Result<Vec<EventRecord>, serde_json::Error> {
        let mut records = Vec::new();
        let mut prev = GENESIS_HASH;
        for sequence in 1..=n {
            let event = Event::AccountActivated {
                account_id: AccountId(Uuid::from_u128(u128::from(sequence.unsigned_abs()))),
            };
            let record = chain_record(
                prev,
                sequence,
                1,
                &event,
                Actor::System,
                datetime!(2026-11-21 10:00 UTC),
            )?;
            prev = record.hash;
            records.push(record);
        }
        Ok(records)
    }

    #[test]
    fn an_intact_chain_verifies() -> Result<(), serde_json::Error> {
        let records = chain(5)?;
        let (last, next) = verify_chain(GENESIS_HASH, 1, &records)
            .map_err(|_| serde_json::Error::io(std::io::Error::other("broken")))?;
        assert_eq!(next, 6);
        assert_eq!(Some(last), records.last().map(|r| r.hash));
        Ok(())
    }

    #[test]
    fn altering_any_field_breaks_the_chain_at_that_event() -> Result<(), serde_json::Error> {
        let alterations: [fn(&mut EventRecord); 5] = [
            |r| r.payload.push(' '),
            |r| r.actor = "user:someone-else".to_owned(),
            |r| r.event_type = "AccountClosed".to_owned(),
            |r| r.occurred_at += time::Duration::microseconds(1),
            |r| r.stream_version += 1,
        ];
        for alter in alterations {
            let mut records = chain(5)?;
            alter(&mut records[2]);
            assert_eq!(
                verify_chain(GENESIS_HASH, 1, &records),
                Err(BrokenLink { sequence: 3 })
            );
        }
        Ok(())
    }

    #[test]
    fn a_deleted_event_breaks_the_chain_where_it_was() -> Result<(), serde_json::Error> {
        let mut records = chain(5)?;
        records.remove(1);
        assert_eq!(
            verify_chain(GENESIS_HASH, 1, &records),
            Err(BrokenLink { sequence: 2 })
        );
        Ok(())
    }

    #[test]
    fn the_head_shows_events_cut_off_the_end_or_rewritten_with_new_hashes()
    -> Result<(), serde_json::Error> {
        let records = chain(5)?;
        let at = |index: usize| ChainHead {
            last_sequence: records[index].sequence,
            last_hash: records[index].hash,
        };
        let head = at(4);
        assert_eq!(head.check_end(at(4)), Ok(()));
        assert_eq!(ChainHead::GENESIS.check_end(ChainHead::GENESIS), Ok(()));
        // The last two events were deleted: the walk stopped at 3.
        assert_eq!(head.check_end(at(2)), Err(BrokenLink { sequence: 4 }));
        // Everything was deleted.
        assert_eq!(
            head.check_end(ChainHead::GENESIS),
            Err(BrokenLink { sequence: 1 })
        );
        // Events the head never acknowledged follow it.
        assert_eq!(at(2).check_end(head), Err(BrokenLink { sequence: 4 }));
        // The walk reached the head's sequence by another chain.
        let forged = ChainHead {
            last_hash: records[3].hash,
            ..head
        };
        assert_eq!(head.check_end(forged), Err(BrokenLink { sequence: 5 }));
        Ok(())
    }

    #[test]
    fn events_read_back_from_their_stored_form() -> Result<(), serde_json::Error> {
        let event = Event::HoldPlaced {
            hold_id: HoldId(Uuid::now_v7()),
            account_id: AccountId(Uuid::now_v7()),
            amount_minor: 1_250,
            expires_at: datetime!(2026-11-28 10:00 UTC),
        };
        let stored = event.payload_json()?;
        assert_eq!(Event::from_stored(event.event_type(), &stored)?, event);
        Ok(())
    }
}
