//! Operations: liveness, readiness, metrics and the API description.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::ports::{Clock, Storage};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(
    operation_id = "healthLive",get, path = "/health/live", tag = "operations", security(()),
    responses((status = 200, description = "Healthy", body = HealthDto)))]
pub async fn live() -> axum::Json<HealthDto> {
    axum::Json(HealthDto { status: "ok" })
}

/// Every dependency (the database) answers; 503 otherwise.
#[utoipa::path(
    operation_id = "healthReady",get, path = "/health/ready", tag = "operations", security(()),
    responses(
        (status = 200, description = "Healthy", body = HealthDto),
        (status = 503, description = "Unavailable (`service_unavailable`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
) -> Result<axum::Json<HealthDto>, ApiError> {
    state.service.check_ready().await?;
    Ok(axum::Json(HealthDto { status: "ok" }))
}

/// Prometheus metrics (text exposition format). When the server runs with
/// `COFFRE_METRICS_LISTEN`, they are served on that listener only, and here answer 404.
#[utoipa::path(
    operation_id = "metrics",get, path = "/metrics", tag = "operations", security(()),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 404, description = "Served on the metrics listener instead (`not_found`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics<S: Storage, C: Clock>(State(state): State<AppState<S, C>>) -> Response {
    let body = state.metrics.render();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// The OpenAPI document [`openapi`] serves, handed to it by the router as a request extension:
/// the document is built from the route table, which names this module's handlers, so this
/// module does not import it.
#[derive(Debug, Clone)]
pub struct OpenApiDocument(pub Bytes);

/// This API's OpenAPI 3.1 description.
#[utoipa::path(
    operation_id = "openapi",get, path = "/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(document: Extension<OpenApiDocument>) -> Response {
    let Extension(OpenApiDocument(body)) = document;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Where the Swagger UI's page and assets are served.
pub const DOCS_UI_PATH: &str = "/docs/ui";

/// Interactive documentation (Swagger UI).
#[utoipa::path(
    operation_id = "docs",get, path = "/docs", tag = "operations", security(()),
    responses((status = 303, description = "Redirect to the Swagger UI page at `/docs/ui/`")))]
pub async fn docs() -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static("/docs/ui/"))],
    )
        .into_response()
}
