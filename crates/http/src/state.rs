//! What every handler can reach: the use cases, the HTTP settings, the metrics registry and the
//! rate limiter.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use coffre_app::Service;
use coffre_app::ports::{Clock, RateLimiter, Storage};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::fallback_limiter::FallbackLimiter;
use crate::rate_limit::InProcessLimiter;
use crate::render_gate::StatementSettings;

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
    /// Requests allowed per minute per client and route class (in process unless a shared
    /// limiter is set with [`AppState::with_rate_limiter`]).
    pub rate_limit_per_minute: NonZeroU32,
    /// Statement limits: lines per PDF, PDF renders at once.
    pub statements: StatementSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            secure_transport: false,
            cors_allowed_origins: Vec::new(),
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            rate_limit_per_minute: NonZeroU32::MIN.saturating_add(99),
            statements: StatementSettings::default(),
        }
    }
}

/// Shared state of the router; cheap to clone.
#[derive(Debug)]
pub struct AppState<S, C> {
    /// The use cases.
    pub service: Arc<Service<S, C>>,
    /// HTTP settings.
    pub settings: Arc<HttpSettings>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Counts requests against the rate limits.
    pub limiter: Arc<dyn RateLimiter>,
}

impl<S, C> Clone for AppState<S, C> {
    fn clone(&self) -> Self {
        AppState {
            service: Arc::clone(&self.service),
            settings: Arc::clone(&self.settings),
            metrics: self.metrics.clone(),
            limiter: Arc::clone(&self.limiter),
        }
    }
}

impl<S: Storage, C: Clock> AppState<S, C> {
    /// Builds the state.
    pub fn new(service: Service<S, C>, settings: HttpSettings, metrics: PrometheusHandle) -> Self {
        AppState {
            service: Arc::new(service),
            limiter: Arc::new(InProcessLimiter::per_minute(settings.rate_limit_per_minute)),
            settings: Arc::new(settings),
            metrics,
        }
    }

    /// Counts requests with `limiter` (shared by every node, in Redis) instead of in process;
    /// while it fails, the node limits on its own.
    pub fn with_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Arc::new(FallbackLimiter::new(
            limiter,
            self.settings.rate_limit_per_minute,
        ));
        self
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
