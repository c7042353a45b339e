//! The ledger's ports: the transaction engine, and the reads of transactions, holds and
//! statements.

use std::future::Future;

use coffre_domain::events::Actor;
use coffre_domain::ledger::{
    Applied, Direction, Hold, HoldId, LedgerCommand, LedgerError, LedgerPolicy, Transaction,
    TransactionId, TransactionType,
};
use coffre_domain::{AccountId, Money};
use time::OffsetDateTime;

use crate::ports::StoreError;

/// A response as the client first received it, kept to be replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` of the body.
    pub content_type: String,
    /// The body, exactly as sent.
    pub body: Vec<u8>,
}

/// What each command of a batch came to, in order.
pub type BatchResults = Vec<Result<Applied, LedgerError>>;

/// Renders the response a batch's results get, so that it can be stored with them.
pub type Respond = Box<dyn FnOnce(&BatchResults) -> StoredResponse + Send>;

/// An `Idempotency-Key` claim: the engine records the response under it in the same database
/// transaction as the batch, and replays it for a later request with the same key.
pub struct IdempotencyClaim {
    /// Whose key it is (`user:<id>`): keys of different clients never collide.
    pub scope: String,
    /// The client's key (1..=255 printable ASCII).
    pub key: String,
    /// Hex SHA-256 of what the request asked (method, path, canonical body): the same key with
    /// another request is refused.
    pub fingerprint: String,
    /// When the record may be purged (at least 24 h after the request).
    pub expires_at: OffsetDateTime,
    /// Renders the response from the batch's results; called inside the transaction.
    pub respond: Respond,
}

impl std::fmt::Debug for IdempotencyClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyClaim")
            .field("scope", &self.scope)
            .field("key", &self.key)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// A batch for the transaction engine: a single request is a batch of one.
#[derive(Debug)]
pub struct LedgerBatch {
    /// The commands, applied in order.
    pub commands: Vec<LedgerCommand>,
    /// All or nothing: when any command is refused, nothing is written (but the idempotency
    /// record, which stores the refusal).
    pub atomic: bool,
    /// Who asks (recorded on every event).
    pub actor: Actor,
    /// The instant the batch is applied at.
    pub now: OffsetDateTime,
    /// The bank's ledger settings.
    pub policy: LedgerPolicy,
    /// The idempotency key, when the client sent one.
    pub idempotency: Option<IdempotencyClaim>,
}

/// What the engine did with a batch.
#[derive(Debug)]
pub enum LedgerOutcome {
    /// The batch ran: one result per command. With an idempotency claim, `response` is what
    /// was stored (and must be sent as is).
    Executed {
        /// The results, in command order.
        results: BatchResults,
        /// The stored response, when the batch carried an idempotency claim.
        response: Option<StoredResponse>,
    },
    /// The key was used before for the same request: its first response, to replay.
    Replayed(StoredResponse),
    /// The key was used before for a different request.
    KeyReused,
}

/// Filters of the staff transaction list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionFilter {
    /// Only transactions touching this account (as source or destination).
    pub account_id: Option<AccountId>,
    /// Only transactions of this type.
    pub transaction_type: Option<TransactionType>,
    /// Only transactions created at or after this instant.
    pub from: Option<OffsetDateTime>,
    /// Only transactions created before this instant.
    pub to: Option<OffsetDateTime>,
}

/// One line of an account's statement: a posting on the account, with its transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatementLine {
    /// The posting's position in the account's history (strictly increasing; the cursor).
    pub entry_id: i64,
    /// The transaction.
    pub transaction_id: TransactionId,
    /// Its type.
    pub transaction_type: TransactionType,
    /// Its label.
    pub label: Option<String>,
    /// Debit or credit, from the account's side.
    pub direction: Direction,
    /// The amount (positive).
    pub amount: Money,
    /// The account's balance right after this line, in minor units.
    pub balance_after_minor: i64,
    /// When it was booked.
    pub booked_at: OffsetDateTime,
}

/// One page of statement lines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinesPage {
    /// The lines, in booking order.
    pub items: Vec<StatementLine>,
    /// The cursor of the next page (the last line's `entry_id`), when there is one.
    pub next_cursor: Option<i64>,
}

/// The aggregates of an account's lines booked in a period, read in one query (one snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementTotals {
    /// How many lines.
    pub lines: u64,
    /// The sum of their debits, in minor units.
    pub debits_minor: i64,
    /// The sum of their credits, in minor units.
    pub credits_minor: i64,
    /// The last line's `entry_id`, when there is one: later lines were not counted.
    pub last_entry_id: Option<i64>,
}

/// Filters of an account's statement lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementFilter {
    /// Only lines booked at or after this instant.
    pub from: Option<OffsetDateTime>,
    /// Only lines booked before this instant.
    pub to: Option<OffsetDateTime>,
    /// Only lines of transactions of this type.
    pub transaction_type: Option<TransactionType>,
}

/// The transaction engine and the ledger's reads.
///
/// [`Ledger::execute`] is the write path of every money movement. It takes a *group* of
/// batches (group commit: the concurrent requests of a node, coalesced) and runs them in one
/// database transaction that claims their idempotency keys, locks every account they touch in
/// a fixed order (customer accounts by id, then internal accounts, then the event chain head),
/// loads them with their active holds and the transactions to reverse, applies each batch
/// with [`coffre_domain::ledger::apply`] to the state the batches before it left, writes
/// balances, postings, transactions, holds, events and idempotency records with set-based
/// statements, and commits once.
pub trait Ledger: Clone + Send + Sync + 'static {
    /// Runs a group of batches in one database transaction, in order: one outcome per batch,
    /// in the group's order. A batch's refusals are in its outcome and never affect the other
    /// batches (an all-or-nothing batch that is refused leaves the state as it found it). An
    /// error means the database transaction failed and nothing of the group was written.
    ///
    /// The booking instant of every batch is the latest `now` of the group, so that postings
    /// stay in time order. Two batches of a group never share an idempotency key (the caller
    /// keeps them apart); a group that does is refused whole, as a bug.
    fn execute(
        &self,
        group: Vec<LedgerBatch>,
    ) -> impl Future<Output = Result<Vec<LedgerOutcome>, StoreError>> + Send;

    /// The id of the account of this bank with this IBAN (any status), if there is one.
    fn account_id_by_iban(
        &self,
        iban: &coffre_domain::Iban,
    ) -> impl Future<Output = Result<Option<AccountId>, StoreError>> + Send;

    /// Reads a transaction with its postings.
    fn get_transaction(
        &self,
        id: TransactionId,
    ) -> impl Future<Output = Result<Transaction, StoreError>> + Send;

    /// Lists transactions, newest first, after the `before` cursor (a transaction id).
    fn list_transactions(
        &self,
        filter: &TransactionFilter,
        before: Option<TransactionId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Transaction>, StoreError>> + Send;

    /// Reads a hold.
    fn get_hold(&self, id: HoldId) -> impl Future<Output = Result<Hold, StoreError>> + Send;

    /// The ids of active holds that expired before `now` (for the expiry sweeper), at most
    /// `limit`.
    fn expired_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<HoldId>, StoreError>> + Send;

    /// What an account's pending holds reserve at `now`, in minor units.
    fn pending_holds_minor(
        &self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// An account's statement lines in booking order, after the `after` cursor (an
    /// `entry_id`).
    fn statement_lines(
        &self,
        account: AccountId,
        filter: &StatementFilter,
        after: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StatementLine>, StoreError>> + Send;

    /// The account's balance just before `instant` (the balance after its last posting booked
    /// before it, or zero), in minor units.
    fn balance_before(
        &self,
        account: AccountId,
        instant: OffsetDateTime,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The count, debit and credit sums and last `entry_id` of the account's lines booked in
    /// `[from, to)`, in one query.
    fn statement_totals(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> impl Future<Output = Result<StatementTotals, StoreError>> + Send;
}
