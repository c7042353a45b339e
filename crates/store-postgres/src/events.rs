//! Appending to the hash-chained event log, inside the caller's transaction.
//!
//! The chain head (one row) is locked `FOR UPDATE` by every appending transaction, after all
//! its other locks: appends are serialized, so sequences are gap-free and in commit order, and
//! taking it last keeps the lock order acyclic.

use std::collections::{BTreeMap, BTreeSet};

use coffre_app::ports::StoreError;
use coffre_domain::events::{Actor, ChainHead, Event, EventRecord};
use coffre_store_sql::ledger_plan::{chain_events, streams_of};
use coffre_store_sql::ledger_rows::ChainHeadRow;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;

/// Appends `events` in order, each attributed to who caused it, recorded at `now`: one
/// multi-row insert, whatever their number.
pub(crate) async fn append_attributed(
    conn: &mut PgConnection,
    events: &[(Event, Actor)],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let head = lock_head(conn).await?;
    let versions = stream_versions(conn, &streams_of(events)).await?;
    let (records, head) = chain_events(head, events, &versions, now)?;
    insert_all(conn, &records).await?;
    sqlx::query("UPDATE event_chain_head SET last_sequence = $1, last_hash = $2 WHERE id = 1")
        .bind(head.last_sequence)
        .bind(head.last_hash.as_slice())
        .execute(conn)
        .await
        .store_context("failed to update the event chain head")?;
    Ok(())
}

/// Locks the chain head and reads where the chain stands.
async fn lock_head(conn: &mut PgConnection) -> Result<ChainHead, StoreError> {
    let row: ChainHeadRow = sqlx::query_as(
        "SELECT last_sequence, last_hash FROM event_chain_head WHERE id = 1 FOR UPDATE",
    )
    .fetch_one(conn)
    .await
    .store_context("failed to lock the event chain head")?;
    row.try_into()
}

/// The current (highest) version of each stream that has events.
async fn stream_versions(
    conn: &mut PgConnection,
    streams: &BTreeSet<Uuid>,
) -> Result<BTreeMap<Uuid, i64>, StoreError> {
    let streams: Vec<Uuid> = streams.iter().copied().collect();
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT stream_id, MAX(stream_version) FROM events WHERE stream_id = ANY($1) GROUP BY stream_id",
    )
    .bind(&streams)
    .fetch_all(conn)
    .await
    .store_context("failed to read the streams' versions")?;
    Ok(rows.into_iter().collect())
}

/// Inserts chained records, in order, with one statement.
async fn insert_all(conn: &mut PgConnection, records: &[EventRecord]) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (sequence, stream_id, stream_version, event_type, payload, actor, \
         occurred_at, prev_hash, hash) \
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], \
         $6::text[], $7::timestamptz[], $8::bytea[], $9::bytea[])",
    )
    .bind(records.iter().map(|r| r.sequence).collect::<Vec<i64>>())
    .bind(records.iter().map(|r| r.stream_id).collect::<Vec<Uuid>>())
    .bind(
        records
            .iter()
            .map(|r| r.stream_version)
            .collect::<Vec<i64>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.event_type.as_str())
            .collect::<Vec<&str>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.payload.as_str())
            .collect::<Vec<&str>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.actor.as_str())
            .collect::<Vec<&str>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.occurred_at)
            .collect::<Vec<OffsetDateTime>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.prev_hash.to_vec())
            .collect::<Vec<Vec<u8>>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.hash.to_vec())
            .collect::<Vec<Vec<u8>>>(),
    )
    .execute(conn)
    .await
    .store_context("failed to append events")?;
    Ok(())
}
