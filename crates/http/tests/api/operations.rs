//! Health, metrics, OpenAPI, docs, security headers.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_engines;
use crate::helpers::{
    STAFF_PASSWORD, TELLER, TestApp, assert_problem, spawn_app_with, test_settings,
};

both_engines!(
    a_request_running_past_the_timeout_is_answered_503,
    over_tls_cookies_are_secure_and_host_prefixed_and_hsts_is_sent,
    cors_answers_allow_listed_origins_only,
    health_endpoints_answer,
    metrics_count_requests_per_route_and_status,
    every_response_carries_the_security_headers,
    the_docs_page_is_served_with_its_own_csp,
);

async fn health_endpoints_answer(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    assert_eq!(client.get("/health/live").await?.status(), StatusCode::OK);
    let ready: Value = client.get("/health/ready").await?.json().await?;
    assert_eq!(ready["status"], "ok");
    Ok(())
}

async fn metrics_count_requests_per_route_and_status(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    client
        .get(&format!("/v1/accounts/{}", uuid::Uuid::now_v7()))
        .await?;
    let text = client.get("/metrics").await?.text().await?;
    let counted = text.lines().any(|line| {
        line.starts_with("http_requests_total{")
            && line.contains("route=\"/v1/accounts/{id}\"")
            && line.contains("status=\"401\"")
    });
    assert!(counted, "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
    Ok(())
}

async fn every_response_carries_the_security_headers(app: TestApp) -> anyhow::Result<()> {
    for path in ["/health/live", "/v1/accounts", "/nowhere"] {
        let response = app.anonymous().get(path).await?;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()?
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "no HSTS over plain http: {path}"
        );
    }
    Ok(())
}

async fn the_docs_page_is_served_with_its_own_csp(app: TestApp) -> anyhow::Result<()> {
    let response = app.anonymous().get("/docs").await?; // follows the redirect to /docs/ui/
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()?
            .starts_with("text/html")
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()?
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    Ok(())
}

/// The routes the router serves: each method of each operation of the route table, which the
/// router registers (before issue 15 this read the `.route(..)` calls in `lib.rs`).
fn served_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for operation in coffre_http::routes::table::OPERATIONS {
        for method in operation.methods() {
            routes.insert((method.as_str().to_ascii_lowercase(), operation.path()));
        }
    }
    routes
}

#[tokio::test]
async fn openapi_is_3_1_and_documents_exactly_the_routes_served() -> anyhow::Result<()> {
    let document: Value = serde_json::from_str(&coffre_http::openapi::document_json())?;
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        document["openapi"]
    );
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let served = served_routes();
    assert!(served.len() >= 20, "{served:?}");
    assert_eq!(documented, served);
    Ok(())
}

#[test]
fn every_counted_operation_documents_its_rate_limit_headers_and_429() -> anyhow::Result<()> {
    let document: Value = serde_json::from_str(&coffre_http::openapi::document_json())?;
    let mut missing = Vec::new();
    let mut counted = 0;
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let responses = operation["responses"].as_object().into_iter().flatten();
            let exempt = path.starts_with("/health/") || path == "/metrics";
            let has_429 = operation["responses"].get("429").is_some();
            if exempt {
                if has_429 {
                    missing.push(format!("{method} {path}: not counted, yet documents 429"));
                }
                continue;
            }
            counted += 1;
            if !has_429 {
                missing.push(format!("{method} {path}: no 429"));
            }
            for (status, response) in responses {
                for header in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"] {
                    if response["headers"].get(header).is_none() {
                        missing.push(format!("{method} {path} {status}: no {header}"));
                    }
                }
            }
            if operation["responses"]["429"]["headers"]
                .get("Retry-After")
                .is_none()
            {
                missing.push(format!("{method} {path} 429: no Retry-After"));
            }
        }
    }
    assert!(counted >= 40, "only {counted} counted operations");
    assert_eq!(missing, Vec::<String>::new());
    Ok(())
}

#[test]
fn every_api_operation_declares_the_scope_an_access_token_needs() -> anyhow::Result<()> {
    let document: Value = serde_json::from_str(&coffre_http::openapi::document_json())?;
    let mut undeclared = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().into_iter().flatten() {
            let scopes: Vec<&Value> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement.get("bearer"))
                .collect();
            let declared = matches!(scopes.as_slice(), [list] if list.as_array().is_some_and(|l| l.len() == 1));
            let session_only = coffre_http::scopes::SESSION_ONLY
                .iter()
                .any(|(m, p)| m.eq_ignore_ascii_case(method) && p == path);
            // Session-only operations must not claim a scope, and every other one must.
            if declared == session_only {
                undeclared.push(format!("{method} {path}"));
            }
        }
    }
    assert_eq!(
        undeclared,
        Vec::<String>::new(),
        "operations without a bearer scope (or session-only ones with one)"
    );
    Ok(())
}

async fn over_tls_cookies_are_secure_and_host_prefixed_and_hsts_is_sent(
    app: TestApp,
) -> anyhow::Result<()> {
    let settings = coffre_http::HttpSettings {
        secure_transport: true,
        ..test_settings()
    };
    let tls = spawn_app_with(app.engine, settings, coffre_local::SystemClock).await?;
    let response = tls
        .anonymous()
        .post(
            "/auth/login",
            &serde_json::json!({"username": TELLER, "password": STAFF_PASSWORD}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let hsts = response.headers()["strict-transport-security"]
        .to_str()?
        .to_owned();
    assert!(
        hsts.starts_with("max-age=") && hsts.contains("includeSubDomains"),
        "{hsts}"
    );
    let cookie = response.headers()["set-cookie"].to_str()?.to_owned();
    assert!(
        cookie.starts_with("__Host-coffre_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    Ok(())
}

async fn cors_answers_allow_listed_origins_only(app: TestApp) -> anyhow::Result<()> {
    let settings = coffre_http::HttpSettings {
        cors_allowed_origins: vec![axum::http::HeaderValue::from_static(
            "https://app.example.org",
        )],
        ..test_settings()
    };
    let cors = spawn_app_with(app.engine, settings, coffre_local::SystemClock).await?;
    let preflight = |origin: &'static str| {
        cors.anonymous()
            .request(reqwest::Method::OPTIONS, "/v1/accounts")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://app.example.org").await?;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let refused = preflight("https://evil.example.com").await?;
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    Ok(())
}

async fn a_request_running_past_the_timeout_is_answered_503(app: TestApp) -> anyhow::Result<()> {
    // Verifying a password is slow on purpose (argon2id, 19 MiB): far longer than 1 ms.
    let settings = coffre_http::HttpSettings {
        request_timeout: std::time::Duration::from_millis(1),
        ..test_settings()
    };
    let slow = spawn_app_with(app.engine, settings, coffre_local::SystemClock).await?;
    let response = slow
        .anonymous()
        .post(
            "/auth/login",
            &serde_json::json!({"username": TELLER, "password": STAFF_PASSWORD}),
        )
        .await?;
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await?;
    Ok(())
}
