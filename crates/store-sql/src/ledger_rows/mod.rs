//! The ledger's rows (transactions, postings, holds, internal accounts, events, idempotency
//! records, statement lines) as a query returns them on either engine, and their fallible
//! conversion into domain values. Like [`crate::rows`], every struct derives
//! [`sqlx::FromRow`] generically, and a stored value the domain does not accept becomes a
//! [`StoreError::Unknown`] naming its table, row and column.

use std::collections::BTreeMap;
use std::str::FromStr;

use coffre_app::ports::{StatementLine, StoreError, StoredResponse};
use coffre_domain::events::{ChainHead, EventRecord};
use coffre_domain::ledger::{
    Direction, Hold, HoldId, HoldStatus, InternalAccount, InternalKind, LedgerAccount, Posting,
    Transaction, TransactionId, TransactionStatus, TransactionType,
};
use coffre_domain::{AccountId, Currency, Iban, Money};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::corrupt;

/// Reads a stored currency code.
fn currency(table: &str, id: impl std::fmt::Display, text: &str) -> Result<Currency, StoreError> {
    Currency::from_str(text).map_err(|_| corrupt(table, id, "currency"))
}

/// Reads a stored amount (positive, in range) in a currency.
fn amount(
    table: &str,
    id: impl std::fmt::Display,
    amount_minor: i64,
    currency: Currency,
) -> Result<Money, StoreError> {
    Money::from_minor(amount_minor, currency).map_err(|_| corrupt(table, id, "amount_minor"))
}

/// A `transactions` row (its postings come from [`PostingRow`]s).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TransactionRow {
    id: Uuid,
    #[sqlx(rename = "type")]
    transaction_type: String,
    status: String,
    amount_minor: i64,
    currency: String,
    source_account_id: Option<Uuid>,
    destination_account_id: Option<Uuid>,
    counterparty_iban: Option<String>,
    label: Option<String>,
    reverses_id: Option<Uuid>,
    reversed_by_id: Option<Uuid>,
    hold_id: Option<Uuid>,
    created_at: OffsetDateTime,
    completed_at: Option<OffsetDateTime>,
}

impl TransactionRow {
    /// The transaction's id.
    pub fn id(&self) -> Uuid {
        self.id
    }
}

/// A `postings` row. Queries return them in `line` order (`ORDER BY transaction_id, line`):
/// the order is the posting order, so the line number itself is not read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostingRow {
    entry_id: i64,
    transaction_id: Uuid,
    account_id: Uuid,
    direction: String,
    amount_minor: i64,
    currency: String,
    balance_after_minor: i64,
}

impl PostingRow {
    /// The transaction the posting belongs to.
    pub fn transaction_id(&self) -> Uuid {
        self.transaction_id
    }

    /// The account the posting is on (customer or internal).
    pub fn account_id(&self) -> Uuid {
        self.account_id
    }
}

impl TryFrom<PostingRow> for Posting {
    type Error = StoreError;

    fn try_from(row: PostingRow) -> Result<Self, Self::Error> {
        let id = row.entry_id;
        let currency = currency("postings", id, &row.currency)?;
        Ok(Posting {
            account: LedgerAccount::from_id(row.account_id),
            direction: Direction::parse(&row.direction)
                .ok_or_else(|| corrupt("postings", id, "direction"))?,
            amount: amount("postings", id, row.amount_minor, currency)?,
            balance_after_minor: row.balance_after_minor,
        })
    }
}

/// A transaction from its row and its postings (in line order).
pub fn transaction_from_rows(
    row: TransactionRow,
    postings: Vec<PostingRow>,
) -> Result<Transaction, StoreError> {
    let id = row.id;
    let bad = |column| corrupt("transactions", id, column);
    let currency = currency("transactions", id, &row.currency)?;
    if postings.iter().any(|posting| posting.transaction_id != id) {
        return Err(bad("postings"));
    }
    Ok(Transaction {
        id: TransactionId(id),
        transaction_type: TransactionType::parse(&row.transaction_type)
            .ok_or_else(|| bad("type"))?,
        status: TransactionStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
        amount: amount("transactions", id, row.amount_minor, currency)?,
        source: row.source_account_id.map(AccountId),
        destination: row.destination_account_id.map(AccountId),
        counterparty_iban: row
            .counterparty_iban
            .as_deref()
            .map(Iban::parse)
            .transpose()
            .map_err(|_| bad("counterparty_iban"))?,
        label: row.label,
        reverses: row.reverses_id.map(TransactionId),
        reversed_by: row.reversed_by_id.map(TransactionId),
        hold: row.hold_id.map(HoldId),
        postings: postings
            .into_iter()
            .map(Posting::try_from)
            .collect::<Result<_, _>>()?,
        created_at: row.created_at,
        completed_at: row.completed_at,
    })
}

/// Transactions from their rows (in the order wanted) and all their postings (in line order
/// per transaction, transactions in any order).
pub fn transactions_from_rows(
    rows: Vec<TransactionRow>,
    postings: Vec<PostingRow>,
) -> Result<Vec<Transaction>, StoreError> {
    let mut by_transaction: BTreeMap<Uuid, Vec<PostingRow>> = BTreeMap::new();
    for posting in postings {
        by_transaction
            .entry(posting.transaction_id)
            .or_default()
            .push(posting);
    }
    rows.into_iter()
        .map(|row| {
            let postings = by_transaction.remove(&row.id).unwrap_or_default();
            transaction_from_rows(row, postings)
        })
        .collect()
}

/// A `holds` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldRow {
    id: Uuid,
    account_id: Uuid,
    amount_minor: i64,
    currency: String,
    status: String,
    expires_at: OffsetDateTime,
    captured_minor: Option<i64>,
    capture_transaction_id: Option<Uuid>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<HoldRow> for Hold {
    type Error = StoreError;

    fn try_from(row: HoldRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let currency = currency("holds", id, &row.currency)?;
        Ok(Hold {
            id: HoldId(id),
            account_id: AccountId(row.account_id),
            amount: amount("holds", id, row.amount_minor, currency)?,
            status: HoldStatus::parse(&row.status).ok_or_else(|| corrupt("holds", id, "status"))?,
            expires_at: row.expires_at,
            captured_minor: row.captured_minor,
            capture_transaction: row.capture_transaction_id.map(TransactionId),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// An `internal_accounts` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InternalAccountRow {
    id: Uuid,
    kind: String,
    currency: String,
    balance_minor: i64,
}

impl TryFrom<InternalAccountRow> for (InternalAccount, i64) {
    type Error = StoreError;

    fn try_from(row: InternalAccountRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let account = InternalAccount {
            kind: InternalKind::parse(&row.kind)
                .ok_or_else(|| corrupt("internal_accounts", id, "kind"))?,
            currency: currency("internal_accounts", id, &row.currency)?,
        };
        // The id is derived from kind and currency: a row whose id disagrees was tampered with.
        if account.id() != id {
            return Err(corrupt("internal_accounts", id, "id"));
        }
        Ok((account, row.balance_minor))
    }
}

/// An `events` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    sequence: i64,
    stream_id: Uuid,
    stream_version: i64,
    event_type: String,
    payload: String,
    actor: String,
    occurred_at: OffsetDateTime,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// A stored 32-byte hash.
fn hash(table: &str, id: i64, column: &str, bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| corrupt(table, id, column))
}

impl TryFrom<EventRow> for EventRecord {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let id = row.sequence;
        Ok(EventRecord {
            sequence: row.sequence,
            stream_id: row.stream_id,
            stream_version: row.stream_version,
            event_type: row.event_type,
            payload: row.payload,
            actor: row.actor,
            occurred_at: row.occurred_at,
            prev_hash: hash("events", id, "prev_hash", row.prev_hash)?,
            hash: hash("events", id, "hash", row.hash)?,
        })
    }
}

/// The `event_chain_head` row: the last sequence and its hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChainHeadRow {
    last_sequence: i64,
    last_hash: Vec<u8>,
}

impl TryFrom<ChainHeadRow> for ChainHead {
    type Error = StoreError;

    fn try_from(row: ChainHeadRow) -> Result<Self, Self::Error> {
        Ok(ChainHead {
            last_sequence: row.last_sequence,
            last_hash: hash("event_chain_head", 1, "last_hash", row.last_hash)?,
        })
    }
}

/// An `idempotency_keys` row: the request's fingerprint and the response stored under it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotencyRow {
    scope: String,
    key: String,
    fingerprint: String,
    status_code: i32,
    content_type: String,
    body: Vec<u8>,
}

impl IdempotencyRow {
    /// Whose key it is and the key.
    pub fn id(&self) -> (String, String) {
        (self.scope.clone(), self.key.clone())
    }

    /// The fingerprint of the request that first used the key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

impl TryFrom<IdempotencyRow> for StoredResponse {
    type Error = StoreError;

    fn try_from(row: IdempotencyRow) -> Result<Self, Self::Error> {
        Ok(StoredResponse {
            status: u16::try_from(row.status_code)
                .map_err(|_| corrupt("idempotency_keys", &row.key, "status_code"))?,
            content_type: row.content_type,
            body: row.body,
        })
    }
}

/// A statement line: a `postings` row joined with its transaction's type and label.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementLineRow {
    entry_id: i64,
    transaction_id: Uuid,
    #[sqlx(rename = "type")]
    transaction_type: String,
    label: Option<String>,
    direction: String,
    amount_minor: i64,
    currency: String,
    balance_after_minor: i64,
    booked_at: OffsetDateTime,
}

impl TryFrom<StatementLineRow> for StatementLine {
    type Error = StoreError;

    fn try_from(row: StatementLineRow) -> Result<Self, Self::Error> {
        let id = row.entry_id;
        let currency = currency("postings", id, &row.currency)?;
        Ok(StatementLine {
            entry_id: row.entry_id,
            transaction_id: TransactionId(row.transaction_id),
            transaction_type: TransactionType::parse(&row.transaction_type)
                .ok_or_else(|| corrupt("transactions", row.transaction_id, "type"))?,
            label: row.label,
            direction: Direction::parse(&row.direction)
                .ok_or_else(|| corrupt("postings", id, "direction"))?,
            amount: amount("postings", id, row.amount_minor, currency)?,
            balance_after_minor: row.balance_after_minor,
            booked_at: row.booked_at,
        })
    }
}

#[cfg(test)]
mod tests;
