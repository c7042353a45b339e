//! Appending to the hash-chained event log, inside the caller's write transaction.

use std::collections::BTreeMap;

use coffre_app::ports::StoreError;
use coffre_domain::events::{Actor, ChainHead, Event, EventRecord};
use coffre_store_sql::ledger_plan::{chain_events, streams_of};
use coffre_store_sql::ledger_rows::ChainHeadRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;
use crate::instants::instant_text;
use crate::multi_row::{MAX_BINDS, push_list};

/// Appends `events`, in order, each attributed to who caused it, after the chain head, and
/// moves the head. The single writer holds the database, so the head read here is still the
/// head when the transaction commits.
pub(crate) async fn append_attributed(
    conn: &mut SqliteConnection,
    events: &[(Event, Actor)],
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
    let versions = stream_versions(conn, events).await?;
    let (records, head) = chain_events(ChainHead::try_from(head)?, events, &versions, now)?;
    insert_all(conn, &records).await?;
    sqlx::query("UPDATE event_chain_head SET last_sequence = ?, last_hash = ? WHERE id = 1")
        .bind(head.last_sequence)
        .bind(head.last_hash.as_slice())
        .execute(&mut *conn)
        .await
        .store_context("failed to move the event chain head")?;
    Ok(())
}

/// The current (highest) version of each stream of `events` that has events.
async fn stream_versions(
    conn: &mut SqliteConnection,
    events: &[(Event, Actor)],
) -> Result<BTreeMap<Uuid, i64>, StoreError> {
    let streams: Vec<Uuid> = streams_of(events).into_iter().collect();
    let mut versions = BTreeMap::new();
    for chunk in streams.chunks(MAX_BINDS) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT stream_id, MAX(stream_version) FROM events WHERE stream_id IN (",
        );
        push_list(&mut query, chunk.iter().copied());
        query.push(") GROUP BY stream_id");
        let rows: Vec<(Uuid, i64)> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .store_context("failed to read the streams' versions")?;
        versions.extend(rows);
    }
    Ok(versions)
}

/// Inserts chained records, in order, a few hundred rows per statement.
async fn insert_all(
    conn: &mut SqliteConnection,
    records: &[EventRecord],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 9;
    for chunk in records.chunks(MAX_BINDS / COLUMNS) {
        let occurred: Vec<String> = chunk
            .iter()
            .map(|record| instant_text(record.occurred_at))
            .collect::<Result<_, _>>()?;
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (sequence, stream_id, stream_version, event_type, payload, actor, \
             occurred_at, prev_hash, hash) ",
        );
        query.push_values(chunk.iter().zip(occurred), |mut row, (record, occurred)| {
            row.push_bind(record.sequence)
                .push_bind(record.stream_id)
                .push_bind(record.stream_version)
                .push_bind(record.event_type.as_str())
                .push_bind(record.payload.as_str())
                .push_bind(record.actor.as_str())
                .push_bind(occurred)
                .push_bind(record.prev_hash.to_vec())
                .push_bind(record.hash.to_vec());
        });
        query
            .build()
            .execute(&mut *conn)
            .await
            .store_context("failed to append events")?;
    }
    Ok(())
}
