//! Idempotency records: the response a keyed request got, stored with the batch it answers.

use coffre_app::ports::{IdempotencyClaim, LedgerOutcome, Respond, StoreError, StoredResponse};
use coffre_store_sql::ledger_rows::IdempotencyRow;
use coffre_store_sql::writes::stored_instant;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::error::StoreContext;

/// An idempotency claim without its renderer (which is `Send` but not `Sync`, so may not be
/// borrowed across an await).
pub(super) struct Claim {
    /// Whose key it is.
    pub(super) scope: String,
    /// The client's key.
    pub(super) key: String,
    /// What the request asked.
    pub(super) fingerprint: String,
    /// When the record may be purged.
    pub(super) expires_at: OffsetDateTime,
}

/// Splits a claim into its key and its renderer.
pub(super) fn split(claim: IdempotencyClaim) -> (Claim, Respond) {
    let IdempotencyClaim {
        scope,
        key,
        fingerprint,
        expires_at,
        respond,
    } = claim;
    let claim = Claim {
        scope,
        key,
        fingerprint,
        expires_at,
    };
    (claim, respond)
}

/// What an earlier request with the claim's key came to: its response to replay (same
/// request), a refusal (another request), or nothing (a first use).
pub(super) async fn earlier_outcome(
    conn: &mut PgConnection,
    claim: &Claim,
) -> Result<Option<LedgerOutcome>, StoreError> {
    let row: Option<IdempotencyRow> = sqlx::query_as(
        "SELECT key, fingerprint, status_code, content_type, body FROM idempotency_keys \
         WHERE scope = $1 AND key = $2",
    )
    .bind(&claim.scope)
    .bind(&claim.key)
    .fetch_optional(conn)
    .await
    .store_context("failed to read an idempotency record")?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.fingerprint() != claim.fingerprint {
        return Ok(Some(LedgerOutcome::KeyReused));
    }
    Ok(Some(LedgerOutcome::Replayed(StoredResponse::try_from(
        row,
    )?)))
}

/// Stores a record. A concurrent request with the same key that committed first (its row
/// was not there when this batch looked) makes this a unique violation on
/// `idempotency_keys_pkey`, reported as `ConflictKind::IdempotencyKey`.
pub(super) async fn insert(
    conn: &mut PgConnection,
    claim: &Claim,
    response: &StoredResponse,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, content_type, body, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&claim.scope)
    .bind(&claim.key)
    .bind(&claim.fingerprint)
    .bind(i32::from(response.status))
    .bind(&response.content_type)
    .bind(&response.body)
    .bind(stored_instant(now))
    .bind(stored_instant(claim.expires_at))
    .execute(conn)
    .await
    .store_context("failed to store an idempotency record")?;
    Ok(())
}
