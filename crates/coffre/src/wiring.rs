//! Wiring: picks the store from the database URL and builds the service over it.

use std::sync::Arc;

use anyhow::Context as _;
use coffre_app::auth::StepUpPolicy;
use coffre_app::group_commit::GroupCommitConfig;
use coffre_app::oauth::OAuthPolicy;
use coffre_app::ports::{RevocationList, Storage};
use coffre_app::read_cache::CacheConfig;
use coffre_app::throttle::ThrottlePolicy;
use coffre_app::{BankIdentity, Service, ServiceConfig, ServicePorts};
use coffre_domain::ledger::LedgerPolicy;
use coffre_domain::{Bic, FrenchRib};
use coffre_jose::{JwtSigner, KeyRing, SecretSealer};
use coffre_local::{Argon2Hasher, MokaEntries, StoreRevocations, SystemClock};
use coffre_store_postgres::PostgresStore;
use coffre_store_sqlite::SqliteStore;
use time::Duration;

use crate::config::Config;

/// The configured storage engine.
pub(crate) enum Backend {
    /// Embedded SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PostgresStore),
}

/// Connects to the database named by the configuration (creating the data directory for
/// SQLite) and applies migrations.
pub(crate) async fn open_backend(config: &Config) -> anyhow::Result<Backend> {
    let url = config.database_url();
    let backend = if url.starts_with("sqlite:") {
        coffre_store_sqlite::create_private_directory(&config.data_dir)
            .context("failed to create the data directory")?;
        let store = SqliteStore::connect(&url)
            .await
            .context("failed to open the SQLite database")?;
        store
            .migrate()
            .await
            .context("failed to migrate the SQLite database")?;
        Backend::Sqlite(store)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let store = PostgresStore::connect(&url)
            .await
            .context("failed to connect to PostgreSQL")?;
        store
            .migrate()
            .await
            .context("failed to migrate the PostgreSQL database")?;
        Backend::Postgres(store)
    } else {
        anyhow::bail!("COFFRE_DATABASE_URL must start with sqlite:// or postgres://");
    };
    Ok(backend)
}

/// The use cases' policies, from configuration (the bank identity is validated here, at start).
/// `issuer` is Coffre's public URL as clients reach it.
pub(crate) fn service_config(config: &Config, issuer: &str) -> anyhow::Result<ServiceConfig> {
    let bank = &config.bank;
    FrenchRib::new(&bank.code, &bank.branch_code, "00000000000")
        .map_err(|_| anyhow::anyhow!("bank code and branch code must be five digits each"))?;
    let bic =
        Bic::parse(&bank.bic).map_err(|_| anyhow::anyhow!("COFFRE_BIC is not a valid BIC"))?;
    anyhow::ensure!(
        config.ledger.default_daily_limit > 0,
        "COFFRE_LEDGER_DEFAULT_DAILY_LIMIT must be positive"
    );
    let session = &config.session;
    let lockout = Duration::seconds(session.lockout_s);
    Ok(ServiceConfig {
        bank: BankIdentity {
            bank_code: bank.code.clone(),
            branch_code: bank.branch_code.clone(),
            bic,
        },
        session_idle_timeout: Duration::seconds(session.idle_timeout_s),
        session_absolute_timeout: Duration::seconds(session.absolute_timeout_s),
        max_sessions_per_user: session.max_per_user.max(1),
        user_throttle: ThrottlePolicy {
            max_failures: session.max_failures_per_user,
            window: lockout,
            lockout,
        },
        ip_throttle: ThrottlePolicy {
            max_failures: session.max_failures_per_ip,
            window: lockout,
            lockout,
        },
        mfa_throttle: ThrottlePolicy {
            max_failures: config.auth.max_code_failures_per_user,
            window: lockout,
            lockout,
        },
        step_up: step_up_policy(config)?,
        ledger: LedgerPolicy {
            default_daily_limit_major: config.ledger.default_daily_limit,
            ..LedgerPolicy::default()
        },
        group_commit: group_commit(config)?,
        cache: CacheConfig {
            enabled: config.cache.enabled,
            ttl: std::time::Duration::from_millis(config.cache.ttl_ms),
            capacity: config.cache.capacity,
        },
        oauth: oauth_policy(config, issuer)?,
    })
}

fn group_commit(config: &Config) -> anyhow::Result<GroupCommitConfig> {
    let ledger = &config.ledger;
    anyhow::ensure!(
        ledger.group_commit_max_commands > 0,
        "COFFRE_LEDGER_GROUP_COMMIT_MAX_COMMANDS must be positive"
    );
    Ok(GroupCommitConfig {
        enabled: ledger.group_commit,
        max_commands: ledger.group_commit_max_commands,
        max_wait: std::time::Duration::from_micros(ledger.group_commit_max_wait_us),
    })
}

fn step_up_policy(config: &Config) -> anyhow::Result<StepUpPolicy> {
    let auth = &config.auth;
    anyhow::ensure!(
        auth.step_up_threshold_minor >= 0 && auth.step_up_max_age_s > 0,
        "the step-up threshold must not be negative and its maximum age must be positive"
    );
    Ok(StepUpPolicy {
        threshold_minor: auth.step_up_threshold_minor,
        max_age: Duration::seconds(auth.step_up_max_age_s),
    })
}

fn oauth_policy(config: &Config, issuer: &str) -> anyhow::Result<OAuthPolicy> {
    let auth = &config.auth;
    anyhow::ensure!(
        auth.access_token_ttl_s > 0 && auth.refresh_token_ttl_s > 0,
        "token lifetimes must be positive"
    );
    let issuer = issuer.trim_end_matches('/').to_owned();
    Ok(OAuthPolicy {
        audience: format!("{issuer}/v1"),
        issuer,
        access_token_ttl: Duration::seconds(auth.access_token_ttl_s),
        refresh_token_ttl: Duration::seconds(auth.refresh_token_ttl_s),
        code_ttl: Duration::seconds(60),
    })
}

/// The signing keys (generated into the key directory when there are none yet).
pub(crate) fn key_ring(config: &Config) -> anyhow::Result<Arc<KeyRing>> {
    let ring = KeyRing::load_or_create(
        config.keys_dir(),
        Duration::seconds(config.auth.access_token_ttl_s),
    )
    .context("failed to load the token signing keys")?;
    Ok(Arc::new(ring))
}

/// The service over a store, for command-line tools (issuer: the configured public URL).
/// Revoked access tokens are read from the database's own table.
pub(crate) async fn service<S: Storage>(
    store: S,
    config: &Config,
) -> anyhow::Result<Service<S, SystemClock>> {
    let revocations = Arc::new(StoreRevocations(store.clone()));
    service_at(
        store,
        config,
        &config.public_url(),
        key_ring(config)?,
        revocations,
    )
    .await
}

/// The service over a store, issuing tokens as `issuer` with `keys`, and keeping revoked
/// access-token ids in `revocations`.
pub(crate) async fn service_at<S: Storage>(
    store: S,
    config: &Config,
    issuer: &str,
    keys: Arc<KeyRing>,
    revocations: Arc<dyn RevocationList>,
) -> anyhow::Result<Service<S, SystemClock>> {
    let service_config = service_config(config, issuer)?;
    let signer = JwtSigner::new(
        keys,
        service_config.oauth.issuer.clone(),
        service_config.oauth.audience.clone(),
    );
    let sealer = SecretSealer::load_or_create(&config.keys_dir())
        .context("failed to load the key that seals stored secrets")?;
    let ports = ServicePorts {
        hasher: Arc::new(Argon2Hasher::new()),
        tokens: Arc::new(signer),
        revocations,
        seal: Arc::new(sealer),
    };
    Service::new(store, SystemClock, ports, &MokaEntries, service_config)
        .await
        .map_err(|e| anyhow::anyhow!("failed to start the service: {e}"))
}
