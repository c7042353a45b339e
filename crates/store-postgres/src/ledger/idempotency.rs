//! Idempotency records: the response a keyed request got, stored with the batch it answers.
//!
//! A group claims all its keys first, with one insert that skips the keys already taken: the
//! unique index makes a node claiming a key another node is claiming wait for that node's
//! commit, so a key is never used twice, and a conflict never fails the rest of the group.
//! The claimed rows get their responses at the end, in the same transaction.

use std::collections::{HashMap, HashSet};

use coffre_app::ports::{LedgerOutcome, StoreError};
use coffre_store_sql::ledger_group::{Member, Record, earlier_outcome};
use coffre_store_sql::ledger_rows::IdempotencyRow;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::error::StoreContext;

/// Claims the members' keys; for each member, the outcome of an earlier request with its key
/// (its response to replay, or a refusal for another request), or `None` when the member
/// runs now.
pub(super) async fn claim_keys(
    conn: &mut PgConnection,
    members: &[Member],
    now: OffsetDateTime,
) -> Result<Vec<Option<LedgerOutcome>>, StoreError> {
    let claims: Vec<_> = members.iter().filter_map(|m| m.claim.as_ref()).collect();
    if claims.is_empty() {
        return Ok(members.iter().map(|_| None).collect());
    }
    let scopes: Vec<&str> = claims.iter().map(|c| c.scope.as_str()).collect();
    let keys: Vec<&str> = claims.iter().map(|c| c.key.as_str()).collect();
    let fingerprints: Vec<&str> = claims.iter().map(|c| c.fingerprint.as_str()).collect();
    let expiries: Vec<OffsetDateTime> = claims.iter().map(|c| c.expires_at).collect();
    // The response is filled in by `store_responses` before the commit: nobody ever sees the
    // placeholder.
    let claimed: Vec<(String, String)> = sqlx::query_as(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, content_type, body, \
         created_at, expires_at) \
         SELECT scope, key, fingerprint, 0, '', ''::bytea, $4, expires_at \
         FROM unnest($1::text[], $2::text[], $3::text[], $5::timestamptz[]) \
         AS c(scope, key, fingerprint, expires_at) \
         ON CONFLICT (scope, key) DO NOTHING RETURNING scope, key",
    )
    .bind(&scopes)
    .bind(&keys)
    .bind(&fingerprints)
    .bind(now)
    .bind(&expiries)
    .fetch_all(&mut *conn)
    .await
    .store_context("failed to claim idempotency keys")?;
    let mut earlier = if claimed.len() == claims.len() {
        HashMap::new()
    } else {
        taken(conn, &scopes, &keys, &claimed).await?
    };
    members
        .iter()
        .map(|member| {
            let Some(claim) = &member.claim else {
                return Ok(None);
            };
            earlier
                .remove(&(claim.scope.clone(), claim.key.clone()))
                .map(|row| earlier_outcome(row, claim))
                .transpose()
        })
        .collect()
}

/// The records of the keys that were already taken (those not in `claimed`).
async fn taken(
    conn: &mut PgConnection,
    scopes: &[&str],
    keys: &[&str],
    claimed: &[(String, String)],
) -> Result<HashMap<(String, String), IdempotencyRow>, StoreError> {
    let rows: Vec<IdempotencyRow> = sqlx::query_as(
        "SELECT i.scope, i.key, i.fingerprint, i.status_code, i.content_type, i.body \
         FROM idempotency_keys i JOIN unnest($1::text[], $2::text[]) AS c(scope, key) \
         ON i.scope = c.scope AND i.key = c.key",
    )
    .bind(scopes)
    .bind(keys)
    .fetch_all(conn)
    .await
    .store_context("failed to read idempotency records")?;
    let claimed: HashSet<&(String, String)> = claimed.iter().collect();
    Ok(rows
        .into_iter()
        .map(|row| (row.id(), row))
        .filter(|(id, _)| !claimed.contains(id))
        .collect())
}

/// Fills the claimed rows with the responses their batches got.
pub(super) async fn store_replies(
    conn: &mut PgConnection,
    members: &[Member],
    records: &[Record],
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut scopes = Vec::with_capacity(records.len());
    let mut keys = Vec::with_capacity(records.len());
    for record in records {
        let claim = members
            .get(record.member)
            .and_then(|member| member.claim.as_ref())
            .ok_or_else(|| StoreError::Unknown(anyhow::anyhow!("a response without its claim")))?;
        scopes.push(claim.scope.as_str());
        keys.push(claim.key.as_str());
    }
    let statuses: Vec<i32> = records
        .iter()
        .map(|r| i32::from(r.response.status))
        .collect();
    let types: Vec<&str> = records
        .iter()
        .map(|r| r.response.content_type.as_str())
        .collect();
    let bodies: Vec<&[u8]> = records.iter().map(|r| r.response.body.as_slice()).collect();
    let updated = sqlx::query(
        "UPDATE idempotency_keys AS i SET status_code = r.status_code, \
         content_type = r.content_type, body = r.body \
         FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::bytea[]) \
         AS r(scope, key, status_code, content_type, body) \
         WHERE i.scope = r.scope AND i.key = r.key",
    )
    .bind(&scopes)
    .bind(&keys)
    .bind(&statuses)
    .bind(&types)
    .bind(&bodies)
    .execute(conn)
    .await
    .store_context("failed to store idempotency responses")?;
    if updated.rows_affected() != records.len() as u64 {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "{} of {} claimed idempotency keys were stored",
            updated.rows_affected(),
            records.len()
        )));
    }
    Ok(())
}
