//! `[http]`, `[rate_limit]` and `[metrics]`: what the node's HTTP edge accepts and where it
//! listens.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// `[http]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct HttpConfig {
    /// A TLS-terminating proxy is in front (even if the public URL says http).
    pub(crate) behind_tls: bool,
    /// Browser origins allowed to call the API (comma-separated in the environment).
    pub(crate) cors_origins: String,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (comma-separated).
    pub(crate) trusted_proxies: String,
    /// Largest accepted request body.
    pub(crate) body_limit_bytes: usize,
    /// Requests running longer are answered 503.
    pub(crate) request_timeout_ms: u64,
    /// How long in-flight requests may run after SIGTERM/SIGINT.
    pub(crate) shutdown_grace_ms: u64,
    /// A client must send a whole request head within this, on a new connection and between
    /// requests of a kept-alive one (`COFFRE_HTTP_HEADER_READ_TIMEOUT_MS`).
    pub(crate) header_read_timeout_ms: u64,
    /// The most connections served at once (`COFFRE_HTTP_MAX_CONNECTIONS`).
    pub(crate) max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            behind_tls: false,
            cors_origins: String::new(),
            trusted_proxies: String::new(),
            body_limit_bytes: 64 * 1024,
            request_timeout_ms: 30_000,
            shutdown_grace_ms: 20_000,
            header_read_timeout_ms: 10_000,
            max_connections: 1024,
        }
    }
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RateLimitConfig {
    /// Requests per minute per client and route class, burst included
    /// (`COFFRE_RATE_LIMIT_REQUESTS_PER_MINUTE`).
    pub(crate) requests_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            requests_per_minute: 100,
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct MetricsConfig {
    /// Serve `/metrics` (and the health probes) on this address only, not on the API's
    /// (`COFFRE_METRICS_LISTEN`); unset, `/metrics` is on the API's address.
    pub(crate) listen: Option<SocketAddr>,
}
