//! Ports not yet written once for both engines: each engine type still implements them, and
//! these impls hand the calls on. Each goes away when its port moves into this crate.

use std::future::Future;

use coffre_app::pagination::{Page, PageRequest};
use coffre_app::ports::{
    AccountFilter, AccountStore, AuditLog, CurrencyTotals, CustomerFilter, CustomerStore,
    EventFilter, LiveState, MfaChallengeRecord, MfaStore, SessionRecord, SessionStore, StoreError,
    TotpRecord, UserRecord, UserStore,
};
use coffre_domain::events::{Actor, ChainHead, EventRecord};
use coffre_domain::{Account, AccountId, Customer, CustomerId, UserId, Username};
use time::OffsetDateTime;

use super::SqlStore;
use crate::engine::Engine;

impl<Eng: Engine + CustomerStore> CustomerStore for SqlStore<Eng> {
    fn insert_customer(
        &self,
        customer: &Customer,
        user: &UserRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.insert_customer(customer, user, actor)
    }

    fn get_customer(
        &self,
        id: CustomerId,
    ) -> impl Future<Output = Result<Customer, StoreError>> + Send {
        self.engine.get_customer(id)
    }

    fn list_customers(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Customer>, StoreError>> + Send {
        self.engine.list_customers(filter, page)
    }

    fn update_customer<E, F>(
        &self,
        id: CustomerId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Customer, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Customer, &mut [Account]) -> Result<(), E> + Send + 'static,
    {
        self.engine.update_customer(id, actor, change)
    }
}

impl<Eng: Engine + AccountStore> AccountStore for SqlStore<Eng> {
    fn insert_account<E, F>(
        &self,
        customer_id: CustomerId,
        actor: Actor,
        build: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Customer) -> Result<Account, E> + Send + 'static,
    {
        self.engine.insert_account(customer_id, actor, build)
    }

    fn get_account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Account, StoreError>> + Send {
        self.engine.get_account(id)
    }

    fn list_accounts(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Account>, StoreError>> + Send {
        self.engine.list_accounts(filter, page)
    }

    fn update_account<E, F>(
        &self,
        id: AccountId,
        actor: Actor,
        change: F,
    ) -> impl Future<Output = Result<Account, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Account) -> Result<(), E> + Send + 'static,
    {
        self.engine.update_account(id, actor, change)
    }
}

impl<Eng: Engine + UserStore> UserStore for SqlStore<Eng> {
    fn insert_user(
        &self,
        user: &UserRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.insert_user(user)
    }

    fn find_user_by_username(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send {
        self.engine.find_user_by_username(username)
    }

    fn find_user(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send {
        self.engine.find_user(id)
    }
}

impl<Eng: Engine + SessionStore> SessionStore for SqlStore<Eng> {
    fn insert_session(
        &self,
        session: &SessionRecord,
        replaces_token_hash: Option<&str>,
        max_per_user: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine
            .insert_session(session, replaces_token_hash, max_per_user)
    }

    fn find_session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<(SessionRecord, UserRecord)>, StoreError>> + Send {
        self.engine.find_session(token_hash)
    }

    fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.touch_session(token_hash, last_seen_at)
    }

    fn delete_session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.delete_session(token_hash)
    }
}

impl<Eng: Engine + AuditLog> AuditLog for SqlStore<Eng> {
    fn events(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<EventRecord>, StoreError>> + Send {
        self.engine.events(filter, after, limit)
    }

    fn trial_balance(
        &self,
    ) -> impl Future<Output = Result<Vec<CurrencyTotals>, StoreError>> + Send {
        self.engine.trial_balance()
    }

    fn live_state(&self) -> impl Future<Output = Result<LiveState, StoreError>> + Send {
        self.engine.live_state()
    }

    fn chain_head(&self) -> impl Future<Output = Result<ChainHead, StoreError>> + Send {
        self.engine.chain_head()
    }
}

impl<Eng: Engine + MfaStore> MfaStore for SqlStore<Eng> {
    fn find_totp(
        &self,
        user_id: UserId,
    ) -> impl Future<Output = Result<Option<TotpRecord>, StoreError>> + Send {
        self.engine.find_totp(user_id)
    }

    fn update_totp<E, F>(
        &self,
        user_id: UserId,
        change: F,
    ) -> impl Future<Output = Result<Option<TotpRecord>, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, E> + Send + 'static,
    {
        self.engine.update_totp(user_id, change)
    }

    fn insert_mfa_challenge(
        &self,
        challenge: &MfaChallengeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.engine.insert_mfa_challenge(challenge)
    }

    fn find_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<MfaChallengeRecord>, StoreError>> + Send {
        self.engine.find_mfa_challenge(token_hash)
    }

    fn delete_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.engine.delete_mfa_challenge(token_hash)
    }
}
