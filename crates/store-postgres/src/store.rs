//! The ports, implemented by delegating to one module per table group.

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::{
    AccountFilter, AuditLog, AuthorizationCodeRecord, ClientRecord, CurrencyTotals, CustomerFilter,
    EventFilter, Ledger, LedgerBatch, LedgerOutcome, LiveState, MfaChallengeRecord, MfaStore,
    OAuthStore, PurgeCutoffs, RefreshTokenRecord, RefreshTokenState, Rotation, SessionRecord,
    StatementFilter, StatementLine, StatementTotals, Store, StoreError, ThrottleState, TotpRecord,
    TransactionFilter, UserRecord,
};
use coffre_domain::events::{Actor, ChainHead, EventRecord};
use coffre_domain::ledger::{Hold, HoldId, Transaction, TransactionId};
use coffre_domain::oauth::ClientId;
use coffre_domain::{Account, AccountId, Customer, CustomerId, Iban, UserId, Username};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreContext;
use crate::ledger::reads;
use crate::oauth::refresh;
use crate::{PostgresStore, accounts, audit, customers, ledger, mfa, oauth, sessions, throttle};

impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .store_context("failed to ping the database")?;
        Ok(())
    }

    async fn insert_customer(
        &self,
        customer: &Customer,
        user: &UserRecord,
        actor: Actor,
    ) -> Result<(), StoreError> {
        customers::insert(&self.pool, customer, user, actor).await
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Customer, StoreError> {
        customers::get(&self.pool, id).await
    }

    async fn list_customers(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        customers::list(&self.pool, filter, page).await
    }

    async fn update_customer<E, F>(
        &self,
        id: CustomerId,
        actor: Actor,
        change: F,
    ) -> Result<Customer, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), E> + Send + 'static,
    {
        customers::update(&self.pool, id, actor, change).await
    }

    async fn insert_account<E, F>(
        &self,
        customer_id: CustomerId,
        actor: Actor,
        build: F,
    ) -> Result<Account, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Customer) -> Result<Account, E> + Send + 'static,
    {
        accounts::insert(&self.pool, customer_id, actor, build).await
    }

    async fn get_account(&self, id: AccountId) -> Result<Account, StoreError> {
        accounts::get(&self.pool, id).await
    }

    async fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> Result<Page<Account>, StoreError> {
        accounts::list(&self.pool, filter, page).await
    }

    async fn update_account<E, F>(
        &self,
        id: AccountId,
        actor: Actor,
        change: F,
    ) -> Result<Account, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Account) -> Result<(), E> + Send + 'static,
    {
        accounts::update(&self.pool, id, actor, change).await
    }

    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        sessions::insert_user(&self.pool, user).await
    }

    async fn find_user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserRecord>, StoreError> {
        sessions::find_user(&self.pool, username).await
    }

    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        sessions::find_user_by_id(&self.pool, id).await
    }

    async fn insert_session(
        &self,
        session: &SessionRecord,
        replaces_token_hash: Option<&str>,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        sessions::insert(&self.pool, session, replaces_token_hash, max_per_user).await
    }

    async fn find_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        sessions::find(&self.pool, token_hash).await
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sessions::touch(&self.pool, token_hash, last_seen_at).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sessions::delete(&self.pool, token_hash).await
    }

    async fn throttle_states(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<ThrottleState>>, StoreError> {
        throttle::states(&self.pool, keys).await
    }

    async fn update_throttle<F>(&self, key: &str, next: F) -> Result<ThrottleState, StoreError>
    where
        F: FnOnce(Option<ThrottleState>) -> ThrottleState + Send + 'static,
    {
        throttle::update(&self.pool, key, next).await
    }

    async fn clear_throttle(&self, key: &str) -> Result<(), StoreError> {
        throttle::clear(&self.pool, key).await
    }

    async fn purge_expired(&self, cutoffs: PurgeCutoffs) -> Result<u64, StoreError> {
        sessions::purge_expired(&self.pool, cutoffs).await
    }
}

impl Ledger for PostgresStore {
    async fn execute(&self, group: Vec<LedgerBatch>) -> Result<Vec<LedgerOutcome>, StoreError> {
        ledger::execute(&self.pool, group).await
    }

    async fn account_id_by_iban(&self, iban: &Iban) -> Result<Option<AccountId>, StoreError> {
        accounts::id_by_iban(&self.pool, iban).await
    }

    async fn get_transaction(&self, id: TransactionId) -> Result<Transaction, StoreError> {
        reads::get_transaction(&self.pool, id).await
    }

    async fn list_transactions(
        &self,
        filter: &TransactionFilter,
        before: Option<TransactionId>,
        limit: u32,
    ) -> Result<Vec<Transaction>, StoreError> {
        reads::list_transactions(&self.pool, filter, before, limit).await
    }

    async fn get_hold(&self, id: HoldId) -> Result<Hold, StoreError> {
        reads::get_hold(&self.pool, id).await
    }

    async fn expired_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<HoldId>, StoreError> {
        reads::expired_holds(&self.pool, now, limit).await
    }

    async fn pending_holds_minor(
        &self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        reads::pending_holds_minor(&self.pool, account, now).await
    }

    async fn statement_lines(
        &self,
        account: AccountId,
        filter: &StatementFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StatementLine>, StoreError> {
        reads::statement_lines(&self.pool, account, filter, after, limit).await
    }

    async fn balance_before(
        &self,
        account: AccountId,
        instant: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        reads::balance_before(&self.pool, account, instant).await
    }

    async fn statement_totals(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<StatementTotals, StoreError> {
        reads::statement_totals(&self.pool, account, from, to).await
    }
}

impl AuditLog for PostgresStore {
    async fn events(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EventRecord>, StoreError> {
        audit::events(&self.pool, filter, after, limit).await
    }

    async fn trial_balance(&self) -> Result<Vec<CurrencyTotals>, StoreError> {
        audit::trial_balance(&self.pool).await
    }

    async fn live_state(&self) -> Result<LiveState, StoreError> {
        audit::live_state(&self.pool).await
    }

    async fn chain_head(&self) -> Result<ChainHead, StoreError> {
        audit::chain_head(&self.pool).await
    }
}

impl OAuthStore for PostgresStore {
    async fn insert_client(
        &self,
        client: &ClientRecord,
        service_user: Option<&UserRecord>,
    ) -> Result<(), StoreError> {
        oauth::insert_client(&self.pool, client, service_user).await
    }

    async fn find_client(&self, id: ClientId) -> Result<Option<ClientRecord>, StoreError> {
        oauth::find_client(&self.pool, id).await
    }

    async fn insert_authorization_code(
        &self,
        code: &AuthorizationCodeRecord,
    ) -> Result<(), StoreError> {
        oauth::insert_code(&self.pool, code).await
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCodeRecord>, StoreError> {
        oauth::take_code(&self.pool, code_hash, now).await
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        refresh::insert(&self.pool, token).await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &RefreshTokenRecord,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        refresh::rotate(&self.pool, presented_hash, next, now).await
    }

    async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenState>, StoreError> {
        refresh::find(&self.pool, token_hash).await
    }

    async fn revoke_refresh_family(
        &self,
        family_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_family(&self.pool, family_id, now).await
    }

    async fn revoke_user_refresh_families(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        refresh::revoke_user_families(&self.pool, user_id, now).await
    }

    async fn revoke_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        oauth::revoke_access_token(&self.pool, jti, expires_at).await
    }

    async fn access_token_revoked(&self, jti: Uuid) -> Result<bool, StoreError> {
        oauth::access_token_revoked(&self.pool, jti).await
    }
}

impl MfaStore for PostgresStore {
    async fn find_totp(&self, user_id: UserId) -> Result<Option<TotpRecord>, StoreError> {
        mfa::find_totp(&self.pool, user_id).await
    }

    async fn update_totp<E, F>(&self, user_id: UserId, change: F) -> Result<Option<TotpRecord>, E>
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, E> + Send + 'static,
    {
        mfa::update_totp(&self.pool, user_id, change).await
    }

    async fn insert_mfa_challenge(&self, challenge: &MfaChallengeRecord) -> Result<(), StoreError> {
        mfa::insert_challenge(&self.pool, challenge).await
    }

    async fn find_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallengeRecord>, StoreError> {
        mfa::find_challenge(&self.pool, token_hash).await
    }

    async fn delete_mfa_challenge(&self, token_hash: &str) -> Result<bool, StoreError> {
        mfa::delete_challenge(&self.pool, token_hash).await
    }
}
