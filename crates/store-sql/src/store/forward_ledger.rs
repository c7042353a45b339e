//! The ledger and OAuth ports, not yet written once for both engines (see `forward`).

use std::future::Future;

use coffre_app::ports::{
    AuthorizationCodeRecord, ClientRecord, Ledger, LedgerBatch, LedgerOutcome, OAuthStore,
    RefreshTokenRecord, RefreshTokenState, Rotation, StatementFilter, StatementLine,
    StatementTotals, StoreError, TransactionFilter, UserRecord,
};
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use coffre_domain::oauth::ClientId;
use coffre_domain::{AccountId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

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

impl<Eng: Engine + OAuthStore> OAuthStore for SqlStore<Eng> {
    fn insert_client(
        &self,
        client: &ClientRecord,
        service_user: Option<&UserRecord>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.insert_client(client, service_user)
    }

    fn find_client(
        &self,
        id: ClientId,
    ) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send {
        self.engine.find_client(id)
    }

    fn insert_authorization_code(
        &self,
        code: &AuthorizationCodeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.insert_authorization_code(code)
    }

    fn take_authorization_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<AuthorizationCodeRecord>, StoreError>> + Send {
        self.engine.take_authorization_code(code_hash, now)
    }

    fn insert_refresh_token(
        &self,
        token: &RefreshTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.insert_refresh_token(token)
    }

    fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &RefreshTokenRecord,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send {
        self.engine.rotate_refresh_token(presented_hash, next, now)
    }

    fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenState>, StoreError>> + Send {
        self.engine.find_refresh_token(token_hash)
    }

    fn revoke_refresh_family(
        &self,
        family_id: Uuid,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.revoke_refresh_family(family_id, now)
    }

    fn revoke_user_refresh_families(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.revoke_user_refresh_families(user_id, now)
    }

    fn revoke_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.revoke_access_token(jti, expires_at)
    }

    fn access_token_revoked(
        &self,
        jti: Uuid,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.engine.access_token_revoked(jti)
    }
}
