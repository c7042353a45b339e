//! The service struct that implements every use case over its ports.

use coffre_domain::Bic;
use coffre_domain::ledger::LedgerPolicy;

use std::sync::Arc;

use crate::AppError;
use crate::auth::StepUpPolicy;
use crate::group_commit::{GroupCommit, GroupCommitConfig};
use crate::in_flight::InFlight;
use crate::oauth::OAuthPolicy;
use crate::ports::{
    Clock, LedgerBatch, LedgerOutcome, MakeCacheEntries, PasswordHasher, RevocationList,
    SecretSeal, SharedCache, Storage, StoreError, TokenSigner,
};
use crate::read_cache::{CacheConfig, ReadCache};
use crate::throttle::ThrottlePolicy;

/// Hashed once at start and verified against when a username is unknown (never a real
/// password), so that a login for an unknown user takes as long as one for a known user.
const DUMMY_PASSWORD: &str = "coffre-dummy-password-for-constant-time-login";

/// This bank's identity, used to build IBANs and in inter-bank messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankIdentity {
    /// Five-digit "code banque".
    pub bank_code: String,
    /// Five-digit "code guichet" of the branch that holds the accounts.
    pub branch_code: String,
    /// The bank's BIC.
    pub bic: Bic,
}

/// Policies the use cases apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Who this bank is.
    pub bank: BankIdentity,
    /// A session ends after this long without a request.
    pub session_idle_timeout: time::Duration,
    /// A session ends this long after login, whatever happens.
    pub session_absolute_timeout: time::Duration,
    /// The most live sessions one user may hold; a new login ends the oldest beyond it.
    pub max_sessions_per_user: u32,
    /// Failed-login throttling per account.
    pub user_throttle: ThrottlePolicy,
    /// Failed-login throttling per client IP address.
    pub ip_throttle: ThrottlePolicy,
    /// Failed one-time-code throttling per user.
    pub mfa_throttle: ThrottlePolicy,
    /// Which operations need a recent second factor.
    pub step_up: StepUpPolicy,
    /// The ledger's limits.
    pub ledger: LedgerPolicy,
    /// How concurrent money movements are coalesced into one database transaction.
    pub group_commit: GroupCommitConfig,
    /// The read cache of accounts, customers and recent statement lines.
    pub cache: CacheConfig,
    /// The authorization server's settings.
    pub oauth: OAuthPolicy,
}

/// The ports the binary chooses an implementation of at start, held as trait objects.
#[derive(Debug, Clone)]
pub struct ServicePorts {
    /// Hashes and verifies passwords.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Signs and verifies Coffre's tokens.
    pub tokens: Arc<dyn TokenSigner>,
    /// Revoked access-token ids (the database's table, or Redis when nodes share one).
    pub revocations: Arc<dyn RevocationList>,
    /// Seals the TOTP secrets the store keeps.
    pub seal: Arc<dyn SecretSeal>,
}

/// Implements the use cases. Cheap to clone: every port is a handle.
#[derive(Debug, Clone)]
pub struct Service<S, C> {
    pub(crate) store: S,
    /// The way money movements reach the store's engine (only through
    /// [`Service::run_ledger`]).
    engine: GroupCommit<S>,
    /// Reads clients make often, kept in memory.
    pub(crate) cache: ReadCache,
    /// Hashes and verifies passwords.
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) clock: C,
    /// Signs and verifies Coffre's tokens.
    pub(crate) tokens: Arc<dyn TokenSigner>,
    /// Revoked access-token ids.
    pub(crate) revocations: Arc<dyn RevocationList>,
    /// Seals the TOTP secrets the store keeps.
    pub(crate) seal: Arc<dyn SecretSeal>,
    pub(crate) config: ServiceConfig,
    /// A real hash of a random password, verified against when a username is unknown, so that
    /// a login for an unknown user takes as long as one for a known user.
    pub(crate) dummy_hash: String,
    /// Idempotency keys whose first request is running on this node.
    pub(crate) in_flight: InFlight,
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Builds the service from its ports; the read cache keeps its in-process entries in what
    /// `cache_entries` makes.
    pub async fn new(
        store: S,
        clock: C,
        ports: ServicePorts,
        cache_entries: &impl MakeCacheEntries,
        config: ServiceConfig,
    ) -> Result<Self, AppError> {
        let ServicePorts {
            hasher,
            tokens,
            revocations,
            seal,
        } = ports;
        let dummy_hash = hasher
            .hash(DUMMY_PASSWORD)
            .await
            .map_err(AppError::from_hasher)?;
        Ok(Service {
            engine: GroupCommit::new(store.clone(), config.group_commit),
            cache: ReadCache::new(config.cache, cache_entries),
            store,
            hasher,
            clock,
            tokens,
            revocations,
            seal,
            config,
            dummy_hash,
            in_flight: InFlight::default(),
        })
    }

    /// Keeps the read cache in `backend` (Redis, shared by every node) instead of in process:
    /// a write through any node is then seen by the next read on every node.
    pub fn with_shared_cache(mut self, backend: Arc<dyn SharedCache>) -> Self {
        self.cache = self.cache.shared(backend);
        self
    }

    /// Runs a money movement (with the concurrent ones of this node, see [`GroupCommit`]),
    /// then forgets what it changed from the read cache, before the caller answers: the
    /// caller's next read sees the write.
    pub(crate) async fn run_ledger(&self, batch: LedgerBatch) -> Result<LedgerOutcome, StoreError> {
        let outcome = self.engine.execute(batch).await;
        self.cache.forget_ledger_outcome(&outcome).await;
        outcome
    }

    /// The bank's identity.
    pub fn bank(&self) -> &BankIdentity {
        &self.config.bank
    }

    /// The public keys that verify Coffre's tokens (JWKS).
    pub fn jwks(&self) -> serde_json::Value {
        self.tokens.jwks()
    }

    /// The service's policies.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// Readiness: the database answers. Any failure is "not ready" (503), whatever its cause.
    pub async fn check_ready(&self) -> Result<(), AppError> {
        self.store.ping().await.map_err(|error| match error {
            crate::ports::StoreError::Unavailable(cause)
            | crate::ports::StoreError::Unknown(cause) => AppError::Unavailable(cause),
            other => AppError::Unavailable(anyhow::Error::new(other)),
        })
    }
}
