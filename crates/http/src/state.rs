//! What every handler can reach: the use cases, the HTTP settings and the metrics registry.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use coffre_app::Service;
use coffre_app::password::Argon2Hasher;
use coffre_app::ports::{Clock, Storage};
use metrics_exporter_prometheus::PrometheusHandle;

/// HTTP-level settings, from configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// True when clients reach Coffre over HTTPS (public URL is https, or a TLS-terminating
    /// proxy is in front): cookies get `Secure` and the `__Host-` prefix, responses get HSTS.
    pub secure_transport: bool,
    /// Origins allowed to call the API from a browser (CORS). Empty: no cross-origin access.
    pub cors_allowed_origins: Vec<HeaderValue>,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// A request still running after this is answered 503.
    pub request_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            secure_transport: false,
            cors_allowed_origins: Vec::new(),
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Shared state of the router; cheap to clone.
#[derive(Debug)]
pub struct AppState<S, C> {
    /// The use cases.
    pub service: Arc<Service<S, Argon2Hasher, C>>,
    /// HTTP settings.
    pub settings: Arc<HttpSettings>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
}

impl<S, C> Clone for AppState<S, C> {
    fn clone(&self) -> Self {
        AppState {
            service: Arc::clone(&self.service),
            settings: Arc::clone(&self.settings),
            metrics: self.metrics.clone(),
        }
    }
}

impl<S: Storage, C: Clock> AppState<S, C> {
    /// Builds the state.
    pub fn new(
        service: Service<S, Argon2Hasher, C>,
        settings: HttpSettings,
        metrics: PrometheusHandle,
    ) -> Self {
        AppState {
            service: Arc::new(service),
            settings: Arc::new(settings),
            metrics,
        }
    }

    /// The session cookie's name: `__Host-` prefixed when served over HTTPS, which makes
    /// browsers refuse it unless it is `Secure`, host-only and for path `/`.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.settings.secure_transport {
            "__Host-coffre_session"
        } else {
            "coffre_session"
        }
    }
}
