//! The event log's two statements that SQLite runs its own way: the streams' versions and the
//! insert of a batch of records, as `IN` lists and multi-row `VALUES` chunked under the bind
//! limit (the append itself is `store-sql`'s `events`).

use std::collections::{BTreeMap, BTreeSet};

use coffre_app::ports::StoreError;
use coffre_domain::events::EventRecord;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use crate::error::StoreContext;
use crate::instants::instant_text;
use crate::multi_row::{MAX_BINDS, push_list};

/// The current (highest) version of each stream that has events.
pub(crate) async fn stream_versions(
    conn: &mut SqliteConnection,
    streams: &BTreeSet<Uuid>,
) -> Result<BTreeMap<Uuid, i64>, StoreError> {
    let streams: Vec<Uuid> = streams.iter().copied().collect();
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
pub(crate) async fn insert_all(
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
