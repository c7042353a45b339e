//! Appending to the hash-chained event log, inside the caller's write transaction.

use std::collections::BTreeMap;

use coffre_app::ports::StoreError;
use coffre_domain::events::{Actor, ChainHead, Event};
use coffre_store_sql::ledger_plan::{chain_events, streams_of};
use coffre_store_sql::ledger_rows::ChainHeadRow;
use sqlx::SqliteConnection;
use time::OffsetDateTime;

use crate::error::StoreContext;
use crate::instants::instant_text;

/// Appends `events`, in order, after the chain head, and moves the head. The single writer
/// holds the database, so the head read here is still the head when the transaction commits.
pub(crate) async fn append_events(
    conn: &mut SqliteConnection,
    events: &[Event],
    actor: Actor,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let head: ChainHeadRow =
        sqlx::query_as("SELECT last_sequence, last_hash FROM event_chain_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .store_context("failed to read the event chain head")?;
    let mut versions = BTreeMap::new();
    for stream in streams_of(events) {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(stream_version) FROM events WHERE stream_id = ?")
                .bind(stream)
                .fetch_one(&mut *conn)
                .await
                .store_context("failed to read a stream's version")?;
        if let Some(version) = version {
            versions.insert(stream, version);
        }
    }
    let (records, head) = chain_events(ChainHead::try_from(head)?, events, &versions, actor, now)?;
    for record in &records {
        sqlx::query(
            "INSERT INTO events (sequence, stream_id, stream_version, event_type, payload, actor, \
             occurred_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.sequence)
        .bind(record.stream_id)
        .bind(record.stream_version)
        .bind(&record.event_type)
        .bind(&record.payload)
        .bind(&record.actor)
        .bind(instant_text(record.occurred_at)?)
        .bind(record.prev_hash.as_slice())
        .bind(record.hash.as_slice())
        .execute(&mut *conn)
        .await
        .store_context("failed to append an event")?;
    }
    sqlx::query("UPDATE event_chain_head SET last_sequence = ?, last_hash = ? WHERE id = 1")
        .bind(head.last_sequence)
        .bind(head.last_hash.as_slice())
        .execute(&mut *conn)
        .await
        .store_context("failed to move the event chain head")?;
    Ok(())
}
