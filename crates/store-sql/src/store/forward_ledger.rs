//! The ledger port, not yet written once for both engines: each engine type still implements
//! it, and this impl hands the calls on until it moves into this crate.

use std::future::Future;

use coffre_app::ports::{
    Ledger, LedgerBatch, LedgerOutcome, StatementFilter, StatementLine, StatementTotals,
    StoreError, TransactionFilter,
};
use coffre_domain::AccountId;
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use time::OffsetDateTime;

use super::SqlStore;
use crate::engine::Engine;

impl<Eng: Engine + Ledger> Ledger for SqlStore<Eng> {
    fn execute(
        &self,
        group: Vec<LedgerBatch>,
    ) -> impl Future<Output = Result<Vec<LedgerOutcome>, StoreError>> + Send {
        self.engine.execute(group)
    }

    fn account_id_by_iban(
        &self,
        iban: &coffre_domain::Iban,
    ) -> impl Future<Output = Result<Option<AccountId>, StoreError>> + Send {
        self.engine.account_id_by_iban(iban)
    }

    fn get_transaction(
        &self,
        id: TransactionId,
    ) -> impl Future<Output = Result<Transaction, StoreError>> + Send {
        self.engine.get_transaction(id)
    }

    fn list_transactions(
        &self,
        filter: &TransactionFilter,
        before: Option<TransactionId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Transaction>, StoreError>> + Send {
        self.engine.list_transactions(filter, before, limit)
    }

    fn get_hold(&self, id: HoldId) -> impl Future<Output = Result<Hold, StoreError>> + Send {
        self.engine.get_hold(id)
    }

    fn expired_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<HoldId>, StoreError>> + Send {
        self.engine.expired_holds(now, limit)
    }

    fn pending_holds_minor(
        &self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        self.engine.pending_holds_minor(account, now)
    }

    fn statement_lines(
        &self,
        account: AccountId,
        filter: &StatementFilter,
        after: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StatementLine>, StoreError>> + Send {
        self.engine.statement_lines(account, filter, after, limit)
    }

    fn balance_before(
        &self,
        account: AccountId,
        instant: OffsetDateTime,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        self.engine.balance_before(account, instant)
    }

    fn statement_totals(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> impl Future<Output = Result<StatementTotals, StoreError>> + Send {
        self.engine.statement_totals(account, from, to)
    }
}
