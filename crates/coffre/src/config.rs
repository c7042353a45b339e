//! Configuration: defaults, then `coffre.toml`, then `COFFRE_*` environment variables.
//!
//! Every setting has a default that works with no setup (SQLite in `./coffre-data`, listening
//! on `127.0.0.1:8080`). An environment variable `COFFRE_<SECTION>_<KEY>` overrides the file's
//! `[section] key`; top-level keys are `COFFRE_<KEY>`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use coffre_app::group_commit::GroupCommitConfig;
use coffre_app::read_cache::CacheConfig;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::edge_config::{HttpConfig, MetricsConfig, RateLimitConfig};
use crate::statement_config::StatementsConfig;

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// Address to listen on.
    pub(crate) listen: SocketAddr,
    /// Data directory (SQLite file, generated keys).
    pub(crate) data_dir: PathBuf,
    /// External base URL; `http://<listen>` when unset.
    pub(crate) public_url: Option<String>,
    /// Log filter (tracing `EnvFilter` syntax).
    pub(crate) log: String,
    /// Database.
    pub(crate) database: DatabaseConfig,
    /// Redis: what every node must share. Revoked access tokens, rate-limit buckets and (unless
    /// `[cache] shared = false`) the read cache live there when it is set.
    pub(crate) redis: UrlConfig,
    /// NATS JetStream (events). Not used yet: accepted so deployments can set it ahead of the
    /// features that need it.
    pub(crate) nats: UrlConfig,
    /// This bank's identity.
    pub(crate) bank: BankConfig,
    /// HTTP behaviour.
    pub(crate) http: HttpConfig,
    /// Sessions and login throttling.
    pub(crate) session: SessionConfig,
    /// Ledger limits.
    pub(crate) ledger: LedgerConfig,
    /// The authorization server.
    pub(crate) auth: AuthConfig,
    /// Request rate limits.
    pub(crate) rate_limit: RateLimitConfig,
    /// The read cache.
    pub(crate) cache: CacheSettings,
    /// Statement rendering limits.
    pub(crate) statements: StatementsConfig,
    /// The metrics listener.
    pub(crate) metrics: MetricsConfig,
}

/// `[cache]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct CacheSettings {
    /// Keep accounts, customers and recent statement lines in memory (`COFFRE_CACHE_ENABLED`).
    pub(crate) enabled: bool,
    /// How long an entry lives, in milliseconds: the most another node's write stays unseen
    /// (`COFFRE_CACHE_TTL_MS`).
    pub(crate) ttl_ms: u64,
    /// The most entries of each kind (`COFFRE_CACHE_CAPACITY`).
    pub(crate) capacity: u64,
    /// With `[redis] url` set, keep the entries in Redis, shared by every node (true), or in
    /// this process (`COFFRE_CACHE_SHARED`).
    pub(crate) shared: bool,
}

impl Default for CacheSettings {
    fn default() -> Self {
        let cache = CacheConfig::default();
        CacheSettings {
            enabled: cache.enabled,
            ttl_ms: u64::try_from(cache.ttl.as_millis()).unwrap_or(u64::MAX),
            capacity: cache.capacity,
            shared: true,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://...`; default `sqlite://<data_dir>/coffre.sqlite3`.
    #[serde(serialize_with = "serialize_secret_opt")]
    pub(crate) url: Option<SecretString>,
}

/// A section holding one optional URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct UrlConfig {
    /// The URL (may carry credentials: never logged).
    #[serde(serialize_with = "serialize_secret_opt")]
    pub(crate) url: Option<SecretString>,
}

fn serialize_secret_opt<S: serde::Serializer>(
    value: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value
        .as_ref()
        .map(|s| s.expose_secret().to_owned())
        .serialize(serializer)
}

/// `[bank]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct BankConfig {
    /// Five-digit bank code (`COFFRE_BANK_CODE`).
    pub(crate) code: String,
    /// Five-digit branch code (`COFFRE_BRANCH_CODE`).
    pub(crate) branch_code: String,
    /// BIC (`COFFRE_BIC`).
    pub(crate) bic: String,
}

impl Default for BankConfig {
    /// A fixed demo bank: bank code 99999 is not assigned to any French bank.
    fn default() -> Self {
        BankConfig {
            code: "99999".into(),
            branch_code: "00001".into(),
            bic: "COFRFRPPXXX".into(),
        }
    }
}

/// `[session]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SessionConfig {
    /// A session ends after this long without a request (OWASP: 15–30 min for sensitive apps).
    pub(crate) idle_timeout_s: i64,
    /// A session ends this long after login, whatever happens.
    pub(crate) absolute_timeout_s: i64,
    /// Live sessions one user may hold; a login beyond it ends their oldest
    /// (`COFFRE_SESSION_MAX_PER_USER`).
    pub(crate) max_per_user: u32,
    /// Failed logins allowed per account per window before a lockout.
    pub(crate) max_failures_per_user: u32,
    /// Failed logins allowed per client address per window before a lockout.
    pub(crate) max_failures_per_ip: u32,
    /// The counting window, and the lockout's length.
    pub(crate) lockout_s: i64,
    /// How often ended sessions and stale login throttles are deleted.
    pub(crate) purge_interval_s: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_s: 15 * 60,
            absolute_timeout_s: 8 * 3600,
            max_per_user: 10,
            max_failures_per_user: 5,
            max_failures_per_ip: 50,
            lockout_s: 15 * 60,
            purge_interval_s: 5 * 60,
        }
    }
}

/// `[ledger]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct LedgerConfig {
    /// Daily outgoing limit of an account without one of its own, in major units of its
    /// currency (`COFFRE_LEDGER_DEFAULT_DAILY_LIMIT`).
    pub(crate) default_daily_limit: i64,
    /// Coalesce concurrent money movements into one database transaction
    /// (`COFFRE_LEDGER_GROUP_COMMIT`); off, each request commits on its own.
    pub(crate) group_commit: bool,
    /// The most commands one group holds (`COFFRE_LEDGER_GROUP_COMMIT_MAX_COMMANDS`).
    pub(crate) group_commit_max_commands: usize,
    /// How long a group waits for more requests once its first arrived, in microseconds
    /// (`COFFRE_LEDGER_GROUP_COMMIT_MAX_WAIT_US`).
    pub(crate) group_commit_max_wait_us: u64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        let group_commit = GroupCommitConfig::default();
        LedgerConfig {
            default_daily_limit: 10_000,
            group_commit: group_commit.enabled,
            group_commit_max_commands: group_commit.max_commands,
            group_commit_max_wait_us: u64::try_from(group_commit.max_wait.as_micros())
                .unwrap_or(u64::MAX),
        }
    }
}

/// `[auth]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AuthConfig {
    /// Access-token life in seconds (`COFFRE_AUTH_ACCESS_TOKEN_TTL_S`).
    pub(crate) access_token_ttl_s: i64,
    /// Refresh-token life in seconds, renewed by each rotation.
    pub(crate) refresh_token_ttl_s: i64,
    /// Where the signing keys live; default `<data_dir>/keys`. Every node of a cluster must see
    /// the same directory.
    pub(crate) keys_dir: Option<PathBuf>,
    /// How often a running server re-reads the key directory (to pick up `rotate-keys`).
    pub(crate) key_reload_s: u64,
    /// A customer's transfer above this many minor units needs a login with a one-time code
    /// within `step_up_max_age_s` (`COFFRE_AUTH_STEP_UP_THRESHOLD_MINOR`; 100000 = 1 000.00).
    pub(crate) step_up_threshold_minor: i64,
    /// How recent that login must be, in seconds.
    pub(crate) step_up_max_age_s: i64,
    /// Wrong one-time codes allowed per user within the lockout window (`[session]
    /// lockout_s`) before a lockout.
    pub(crate) max_code_failures_per_user: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            access_token_ttl_s: 15 * 60,
            refresh_token_ttl_s: 30 * 24 * 3600,
            keys_dir: None,
            key_reload_s: 10,
            step_up_threshold_minor: 100_000,
            step_up_max_age_s: 5 * 60,
            max_code_failures_per_user: 5,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./coffre-data"),
            public_url: None,
            log: "info".into(),
            database: DatabaseConfig::default(),
            redis: UrlConfig::default(),
            nats: UrlConfig::default(),
            bank: BankConfig::default(),
            http: HttpConfig::default(),
            session: SessionConfig::default(),
            ledger: LedgerConfig::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            cache: CacheSettings::default(),
            statements: StatementsConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

/// Sections whose keys are read from `COFFRE_<SECTION>_<KEY>`.
const SECTIONS: [&str; 12] = [
    "database",
    "redis",
    "nats",
    "bank",
    "http",
    "session",
    "ledger",
    "auth",
    "rate_limit",
    "cache",
    "statements",
    "metrics",
];
/// Top-level keys read from `COFFRE_<KEY>`.
const TOP_LEVEL: [&str; 4] = ["listen", "data_dir", "public_url", "log"];

/// Whether an environment key (lower case, prefix removed) is configuration. Other `COFFRE_*`
/// variables are ignored: Kubernetes, for one, injects `COFFRE_PORT`, `COFFRE_SERVICE_HOST`…
/// for a Service named `coffre`. A misspelt key inside a section is still refused.
fn is_config_key(key: &str) -> bool {
    let mapped = env_key(key);
    TOP_LEVEL.contains(&mapped.as_str()) || mapped.contains('.')
}

/// Maps an environment key (lower case, prefix removed) to its place in the configuration.
fn env_key(key: &str) -> String {
    match key {
        "branch_code" => "bank.branch_code".into(),
        "bic" => "bank.bic".into(),
        _ => SECTIONS
            .iter()
            .find_map(|section| {
                key.strip_prefix(&format!("{section}_"))
                    .map(|rest| format!("{section}.{rest}"))
            })
            .unwrap_or_else(|| key.to_owned()),
    }
}

impl Config {
    /// Loads the layers. `file` is `--config`; otherwise `coffre.toml` if it exists.
    pub(crate) fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "configuration file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file_exact(path));
            }
            None if Path::new("coffre.toml").exists() => {
                figment = figment.merge(Toml::file_exact("coffre.toml"))
            }
            None => {}
        }
        let env = Env::prefixed("COFFRE_")
            .filter(|key| is_config_key(&key.as_str().to_ascii_lowercase()))
            .map(|key| env_key(&key.as_str().to_ascii_lowercase()).into());
        figment
            .merge(env)
            .extract()
            .context("failed to read the configuration")
    }

    /// The database URL: configured, or SQLite in the data directory.
    pub(crate) fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}/coffre.sqlite3", self.data_dir.display()),
        }
    }

    /// The signing keys' directory.
    pub(crate) fn keys_dir(&self) -> PathBuf {
        self.auth
            .keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }

    /// The public base URL.
    pub(crate) fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_keys_map_to_sections() {
        assert_eq!(env_key("database_url"), "database.url");
        assert_eq!(env_key("bank_code"), "bank.code");
        assert_eq!(env_key("branch_code"), "bank.branch_code");
        assert_eq!(env_key("bic"), "bank.bic");
        assert_eq!(env_key("data_dir"), "data_dir");
        assert_eq!(env_key("http_behind_tls"), "http.behind_tls");
        assert_eq!(
            env_key("ledger_default_daily_limit"),
            "ledger.default_daily_limit"
        );
    }

    #[test]
    fn foreign_coffre_variables_are_not_configuration() {
        assert!(is_config_key("data_dir"));
        assert!(is_config_key("session_idle_timeout_s"));
        assert!(
            is_config_key("http_body_limt"),
            "a typo in a section must reach the strict parser"
        );
        for foreign in ["config", "port", "service_host", "port_8080_tcp_addr"] {
            assert!(!is_config_key(foreign), "{foreign}");
        }
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_directory() {
        assert_eq!(
            Config::default().database_url(),
            "sqlite://./coffre-data/coffre.sqlite3"
        );
    }
}
