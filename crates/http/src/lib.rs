//! Coffre's HTTP adapter: the axum router, its extractors and middleware, problem+json errors
//! and the OpenAPI document.
//!
//! [`router`] builds the whole API from an [`AppState`]; [`serve`] runs it on a bound listener
//! until a shutdown signal, so tests bind port 0 and never guess when the server is ready.

pub mod dto;
pub mod error;
pub mod extract;
mod fallback_limiter;
pub mod metrics_recorder;
pub mod middleware;
pub mod openapi;
pub mod operation;
mod pages;
pub mod problem_responses;
pub mod rate_limit;
pub mod render_gate;
pub mod routes;
pub mod scopes;
pub mod server;
pub mod state;
pub mod statement_csv;
pub mod statement_pdf;
pub mod statement_stream;
mod stored_response;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::{Extension, Router};
use coffre_app::ports::{Clock, Storage};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub use render_gate::{RenderGate, StatementSettings};
pub use server::{ConnectionSettings, serve_with};
pub use state::{AppState, HttpSettings};

use crate::middleware::security_headers::Hsts;
use crate::routes::ops::{self, OpenApiDocument};
use crate::routes::table::register;

/// The whole API, `/metrics` included.
pub fn router<S: Storage, C: Clock>(state: AppState<S, C>) -> Router {
    api_router(state, true)
}

/// The API without `/metrics` (404 there), when [`ops_router`] serves it on its own listener.
pub fn router_without_metrics<S: Storage, C: Clock>(state: AppState<S, C>) -> Router {
    api_router(state, false)
}

/// What a monitoring system scrapes, for a listener of its own that clients never reach:
/// `/metrics` and the health probes (which the API keeps too, for load balancers).
pub fn ops_router<S: Storage, C: Clock>(state: AppState<S, C>) -> Router {
    register(Router::new(), |operation| {
        operation.listener.on_metrics_listener()
    })
    .fallback(|| async { error::ApiError::not_found() })
    .layer(axum::middleware::from_fn(
        middleware::problem_fallback::problem_fallback,
    ))
    .with_state(state)
}

fn api_router<S: Storage, C: Clock>(state: AppState<S, C>, with_metrics: bool) -> Router {
    let api = register(Router::new(), |operation| {
        operation.listener.on_api_listener(with_metrics)
    })
    .fallback(|| async { error::ApiError::not_found() });
    let docs: Router<AppState<S, C>> = SwaggerUi::new(ops::DOCS_UI_PATH)
        .config(Config::from("/openapi.json"))
        .into();
    let settings = state.settings.clone();
    api.merge(docs)
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            settings.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::rate_limit::rate_limit::<S, C>,
        ))
        .layer(axum::middleware::from_fn(
            middleware::operation::identify_operation,
        ))
        .layer(Extension(OpenApiDocument(openapi::document_json().into())))
        .layer(cors(&settings.cors_allowed_origins))
        .layer(CatchPanicLayer::custom(
            middleware::problem_fallback::panic_response,
        ))
        .layer(axum::middleware::from_fn(
            middleware::problem_fallback::problem_fallback,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Hsts(settings.secure_transport),
            middleware::security_headers::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            middleware::access_log::TrustedProxies(settings.trusted_proxies.clone().into()),
            middleware::access_log::access_log,
        ))
        .layer(axum::middleware::from_fn(
            middleware::request_id::request_id,
        ))
        .with_state(state)
}

/// CORS for the allow-listed origins only, with credentials (the session cookie).
fn cors(origins: &[axum::http::HeaderValue]) -> CorsLayer {
    if origins.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static(extract::caller::CSRF_HEADER),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(middleware::request_id::REQUEST_ID),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static(extract::idempotency_key::IDEMPOTENCY_REPLAYED),
            HeaderName::from_static(middleware::request_id::REQUEST_ID),
        ])
}

/// Serves `router` on `listener` with the default [`ConnectionSettings`] until `shutdown`
/// completes, then lets in-flight requests finish (the caller bounds how long).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, ConnectionSettings::default(), shutdown).await
}
