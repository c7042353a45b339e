//! The event log's two statements that PostgreSQL runs its own way: the streams' versions for
//! an array of ids, and the insert of a batch of records as `unnest` of arrays (the append
//! itself is `store-sql`'s `events`).

use std::collections::{BTreeMap, BTreeSet};

use coffre_app::ports::StoreError;
use coffre_domain::events::EventRecord;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;

/// The current (highest) version of each stream that has events.
pub(crate) async fn stream_versions(
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
pub(crate) async fn insert_all(
    conn: &mut PgConnection,
    records: &[EventRecord],
) -> Result<(), StoreError> {
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
