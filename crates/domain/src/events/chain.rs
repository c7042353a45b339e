//! The hash chain that makes the event log tamper-evident: each stored record's hash covers
//! the previous one's hash and its own canonical bytes.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::events::actor::Actor;
use crate::events::event::Event;

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
    use crate::account::AccountId;
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
}
