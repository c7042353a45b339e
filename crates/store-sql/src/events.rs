//! Appending to the hash-chained event log, inside the caller's transaction.
//!
//! The chain head (one row) is locked by every appending transaction (`FOR UPDATE`; SQLite's
//! single writer holds it anyway), after all its other locks: appends are serialized, so
//! sequences are gap-free and in commit order, and taking it last keeps the lock order
//! acyclic.

use coffre_app::ports::StoreError;
use coffre_domain::events::{Actor, ChainHead, Event};
use sqlx::{Database, Encode, FromRow, Type};
use time::OffsetDateTime;

use crate::engine::{Engine, StoreContext};
use crate::ledger_plan::{attributed, chain_events, streams_of};
use crate::ledger_rows::ChainHeadRow;
use crate::sql::for_update;

/// Appends `events`, in order, attributed to `actor`, recorded at `now`.
pub(crate) async fn append<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    events: &[Event],
    actor: Actor,
    now: OffsetDateTime,
) -> Result<(), StoreError>
where
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q [u8]: Encode<'q, E::Db> + Type<E::Db>,
    ChainHeadRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    append_attributed::<E>(conn, &attributed(events, actor), now).await
}

/// Appends `events`, in order, each attributed to who caused it, recorded at `now`, and moves
/// the chain head: the records are inserted with the engine's own batch statement.
pub(crate) async fn append_attributed<E: Engine>(
    conn: &mut <E::Db as Database>::Connection,
    events: &[(Event, Actor)],
    now: OffsetDateTime,
) -> Result<(), StoreError>
where
    i64: for<'q> Encode<'q, E::Db> + Type<E::Db>,
    for<'q> &'q [u8]: Encode<'q, E::Db> + Type<E::Db>,
    ChainHeadRow: for<'r> FromRow<'r, <E::Db as Database>::Row>,
{
    if events.is_empty() {
        return Ok(());
    }
    let head: ChainHeadRow = sqlx::query_as(for_update::<E>(
        "SELECT last_sequence, last_hash FROM event_chain_head WHERE id = 1",
    ))
    .fetch_one(E::conn(conn))
    .await
    .store_context::<E>("failed to lock the event chain head")?;
    let versions = E::stream_versions(conn, &streams_of(events)).await?;
    let (records, head) = chain_events(ChainHead::try_from(head)?, events, &versions, now)?;
    E::insert_events(conn, &records).await?;
    sqlx::query("UPDATE event_chain_head SET last_sequence = $1, last_hash = $2 WHERE id = 1")
        .bind(head.last_sequence)
        .bind(head.last_hash.as_slice())
        .execute(E::conn(conn))
        .await
        .store_context::<E>("failed to move the event chain head")?;
    Ok(())
}
