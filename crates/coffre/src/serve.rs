//! `coffre serve`: run the API until SIGTERM or SIGINT, then drain in-flight requests.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::http::HeaderValue;
use coffre_app::ports::{RevocationList, Storage};
use coffre_http::{AppState, ConnectionSettings, HttpSettings};
use coffre_jose::KeyRing;
use coffre_local::StoreRevocations;
use coffre_redis::{RedisCache, RedisRateLimiter, RedisRevocations};
use secrecy::ExposeSecret as _;

use crate::config::Config;
use crate::wiring::{self, Backend};

/// Runs the server on the configured backend.
pub(crate) async fn run(config: Config) -> anyhow::Result<()> {
    match wiring::open_backend(&config).await? {
        Backend::Sqlite(store) => serve_with(store, config).await,
        Backend::Postgres(store) => serve_with(store, config).await,
    }
}

fn http_settings(config: &Config) -> anyhow::Result<HttpSettings> {
    let cors_allowed_origins = config
        .http
        .cors_origins
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            HeaderValue::from_str(origin).with_context(|| format!("invalid CORS origin {origin:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let trusted_proxies = config
        .http
        .trusted_proxies
        .split(',')
        .map(str::trim)
        .filter(|proxy| !proxy.is_empty())
        .map(|proxy| {
            proxy
                .parse()
                .with_context(|| format!("invalid trusted proxy address {proxy:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(HttpSettings {
        secure_transport: config.http.behind_tls || config.public_url().starts_with("https://"),
        cors_allowed_origins,
        body_limit_bytes: config.http.body_limit_bytes,
        request_timeout: Duration::from_millis(config.http.request_timeout_ms),
        trusted_proxies,
        rate_limit_per_minute: NonZeroU32::new(config.rate_limit.requests_per_minute)
            .context("COFFRE_RATE_LIMIT_REQUESTS_PER_MINUTE must be positive")?,
        statements: config.statements.settings()?,
    })
}

async fn serve_with<S: Storage>(store: S, config: Config) -> anyhow::Result<()> {
    // Bound first: without a configured public URL, the address (port 0 included) is the
    // issuer the tokens name.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("failed to listen on {}", config.listen))?;
    let address = listener
        .local_addr()
        .context("failed to read the bound address")?;
    let url = match &config.public_url {
        Some(url) => url.clone(),
        None => format!("http://{address}"),
    };
    let keys = wiring::key_ring(&config)?;
    let settings = http_settings(&config)?;
    let mut revocations: Arc<dyn RevocationList> = Arc::new(StoreRevocations(store.clone()));
    let mut shared_limiter = None;
    let mut shared_cache = None;
    if let Some(redis_url) = &config.redis.url {
        let list = RedisRevocations::connect(redis_url.expose_secret())
            .await
            .context("failed to connect to Redis (COFFRE_REDIS_URL)")?;
        revocations = Arc::new(list);
        let limiter =
            RedisRateLimiter::connect(redis_url.expose_secret(), settings.rate_limit_per_minute)
                .await
                .context("failed to connect to Redis (COFFRE_REDIS_URL)")?;
        shared_limiter = Some(Arc::new(limiter));
        if config.cache.enabled && config.cache.shared {
            let cache = RedisCache::connect(redis_url.expose_secret())
                .await
                .context("failed to connect to Redis (COFFRE_REDIS_URL)")?;
            shared_cache = Some(Arc::new(cache));
        }
        tracing::info!(
            cache_shared = config.cache.enabled && config.cache.shared,
            "revoked access tokens and rate limits are shared through Redis"
        );
    }
    let mut service =
        wiring::service_at(store, &config, &url, Arc::clone(&keys), revocations).await?;
    if let Some(cache) = shared_cache {
        service = service.with_shared_cache(cache);
    }
    let metrics = coffre_http::metrics_recorder::install()?;
    let mut state = AppState::new(service, settings, metrics);
    if let Some(limiter) = shared_limiter {
        state = state.with_rate_limiter(limiter);
    }
    let metrics_listener = match config.metrics.listen {
        Some(metrics_address) => Some(
            tokio::net::TcpListener::bind(metrics_address)
                .await
                .with_context(|| format!("failed to listen on {metrics_address} (metrics)"))?,
        ),
        None => None,
    };
    let metrics_address = metrics_listener
        .as_ref()
        .map(|listener| listener.local_addr())
        .transpose()
        .context("failed to read the metrics address")?;
    let connections = ConnectionSettings {
        header_read_timeout: Duration::from_millis(config.http.header_read_timeout_ms.max(1)),
        max_connections: config.http.max_connections.max(1),
    };
    if let Some(metrics_address) = metrics_address {
        tracing::info!(metrics_address = %metrics_address, "metrics are served on their own listener");
    }
    tracing::info!(url = %url, address = %address, "Coffre is listening");
    let reloader = tokio::spawn(reload_keys_periodically(
        keys,
        Duration::from_secs(config.auth.key_reload_s.max(1)),
    ));

    let purger = tokio::spawn(purge_periodically(
        std::sync::Arc::clone(&state.service),
        Duration::from_secs(config.session.purge_interval_s.max(1)),
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let router = match metrics_listener {
        Some(metrics_listener) => {
            tokio::spawn(coffre_http::serve_with(
                metrics_listener,
                coffre_http::ops_router(state.clone()),
                connections.clone(),
                stop_signal(stopped.clone()),
            ));
            coffre_http::router_without_metrics(state)
        }
        None => coffre_http::router(state),
    };
    let server = tokio::spawn(coffre_http::serve_with(
        listener,
        router,
        connections,
        stop_signal(stopped),
    ));
    shutdown_signal().await;
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    let _ = stop.send(true);
    purger.abort();
    reloader.abort();
    let grace = Duration::from_millis(config.http.shutdown_grace_ms);
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result
            .context("server task failed")?
            .context("server failed")?,
        Err(_) => {
            tracing::warn!("in-flight requests still running after the grace period; exiting")
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes when `stop` turns true (or its sender is gone).
async fn stop_signal(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Deletes ended sessions and stale login throttles, and marks expired holds, now and then.
/// A failure is logged and retried at the next tick: it must never stop the server.
async fn purge_periodically<S: Storage, C: coffre_app::ports::Clock>(
    service: std::sync::Arc<coffre_app::Service<S, C>>,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = service.purge_expired().await {
            tracing::warn!(error = %error, "failed to purge expired sessions");
        }
        // Expired holds already reserve nothing; marking them keeps the hold list truthful.
        if let Err(error) = service.expire_due_holds().await {
            tracing::warn!(error = %error, "failed to mark expired holds");
        }
    }
}

/// Re-reads the key directory now and then, so that a key added by `coffre admin rotate-keys`
/// (on this machine or, through a shared directory, another) starts signing here too. A
/// failure keeps the keys already loaded.
async fn reload_keys_periodically(keys: Arc<KeyRing>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let keys = Arc::clone(&keys);
        match tokio::task::spawn_blocking(move || keys.reload()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %format!("{error:#}"), "failed to reload the signing keys")
            }
            Err(error) => tracing::warn!(error = %error, "the key reload task failed"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
