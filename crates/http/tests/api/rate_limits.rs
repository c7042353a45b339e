//! Request rate limits: per client and route class, 429 with `Retry-After`, and the
//! `RateLimit-*` headers on every counted response.

use std::num::NonZeroU32;

use reqwest::StatusCode;
use serde_json::json;

use crate::each_engine;
use crate::helpers::{
    ADMIN, Engine, STAFF_PASSWORD, TELLER, TestApp, assert_problem, spawn_app_with, test_settings,
};

/// A test app whose clients may make `per_minute` requests a minute per route class.
async fn limited_app(per_minute: u32) -> anyhow::Result<TestApp> {
    limited_app_on(Engine::Sqlite, per_minute).await
}

/// [`limited_app`] on `engine`.
async fn limited_app_on(engine: Engine, per_minute: u32) -> anyhow::Result<TestApp> {
    let settings = coffre_http::HttpSettings {
        rate_limit_per_minute: NonZeroU32::new(per_minute)
            .ok_or_else(|| anyhow::anyhow!("a limit must be positive"))?,
        ..test_settings()
    };
    spawn_app_with(engine, settings, coffre_local::SystemClock).await
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_against_fifty_a_minute_admit_fifty() -> anyhow::Result<()>
{
    let app = limited_app(50).await?;
    let teller = app.teller().await?;
    let requests = (0..200).map(|_| teller.get("/v1/customers"));
    let responses = futures_util::future::join_all(requests).await;
    let mut admitted = 0;
    let mut refused = 0;
    for response in responses {
        let response = response?;
        assert_eq!(header(&response, "ratelimit-limit"), Some(50));
        assert!(header(&response, "ratelimit-reset").is_some());
        match response.status() {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                assert_eq!(header(&response, "ratelimit-remaining"), Some(0));
                let retry_after = header(&response, "retry-after").unwrap_or(0);
                assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
                assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
            }
            other => anyhow::bail!("unexpected status {other}"),
        }
    }
    // The burst is the whole minute's allowance (50); the test runs in well under the 1.2 s
    // it takes to earn one more.
    assert!(admitted <= 51, "admitted {admitted}");
    assert!(admitted >= 50, "admitted {admitted}");
    assert_eq!(admitted + refused, 200);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_and_route_classes_have_their_own_allowances() -> anyhow::Result<()> {
    let app = limited_app(3).await?;
    let teller = app.teller().await?;
    for _ in 0..3 {
        assert_eq!(teller.get("/v1/customers").await?.status(), StatusCode::OK);
    }
    let refused = teller.get("/v1/customers").await?;
    assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    // Writes are another class: this one reaches the handler (and is refused there).
    let write = teller.post("/v1/accounts", &json!({})).await?;
    assert_eq!(write.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(header(&write, "ratelimit-remaining"), Some(2));
    // Another user has their own allowance.
    let other = app.login(ADMIN, STAFF_PASSWORD).await?;
    assert_eq!(other.get("/v1/customers").await?.status(), StatusCode::OK);
    // Health probes are never counted.
    for _ in 0..10 {
        let probe = reqwest::get(app.url("/health/live")).await?;
        assert_eq!(probe.status(), StatusCode::OK);
        assert!(probe.headers().get("ratelimit-limit").is_none());
    }
    Ok(())
}

/// A request carrying a made-up credential: a random session cookie or bearer token.
fn with_made_up_credential(request: reqwest::RequestBuilder, n: usize) -> reqwest::RequestBuilder {
    let random = uuid::Uuid::new_v4().simple().to_string();
    if n % 2 == 0 {
        request.header("Cookie", format!("coffre_session={random}"))
    } else {
        request.bearer_auth(format!("eyJhbGciOiJFUzI1NiJ9.{random}.sig"))
    }
}

/// Made-up credentials do not earn their own allowance: they count against the sender's
/// address, and a verified user (session or access token) counts against their own.
async fn made_up_credentials_count_against_the_address(engine: Engine) -> anyhow::Result<()> {
    let app = limited_app_on(engine, 5).await?;
    // Two requests of this address's five in the auth class: a login and a password grant.
    let teller = app.teller().await?;
    let tokens = app
        .password_tokens("first-party", TELLER, STAFF_PASSWORD, "customers:read")
        .await?;
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let http = reqwest::Client::new();
    let login = json!({"username": TELLER, "password": STAFF_PASSWORD});
    for n in 0..3 {
        let request = with_made_up_credential(http.post(app.url("/auth/login")).json(&login), n);
        assert_eq!(request.send().await?.status(), StatusCode::OK, "login {n}");
    }
    for n in 0..4 {
        let login_again =
            with_made_up_credential(http.post(app.url("/auth/login")).json(&login), n);
        let refused = login_again.send().await?;
        assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
        let keys = with_made_up_credential(http.get(app.url("/oauth/jwks")), n);
        assert_eq!(
            keys.send().await?.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "jwks {n}"
        );
    }
    // The teller's session and access token are verified: their own allowance, shared.
    let by_session = teller.get("/oauth/jwks").await?;
    assert_eq!(by_session.status(), StatusCode::OK);
    assert_eq!(header(&by_session, "ratelimit-remaining"), Some(4));
    let by_token = app.bearer_get(&access, "/oauth/jwks").await?;
    assert_eq!(by_token.status(), StatusCode::OK);
    assert_eq!(header(&by_token, "ratelimit-remaining"), Some(3));
    // Reads are another class, limited per address the same way.
    for n in 0..5 {
        let request = with_made_up_credential(http.get(app.url("/openapi.json")), n);
        assert_eq!(request.send().await?.status(), StatusCode::OK, "read {n}");
    }
    let request = with_made_up_credential(http.get(app.url("/openapi.json")), 5);
    assert_eq!(
        request.send().await?.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    Ok(())
}

each_engine!(made_up_credentials_count_against_the_address);

/// A wrong method (405) is counted like any request, so it carries the headers too; and the
/// limit's 429 at the token endpoint is an RFC 6749 error, which OAuth clients read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_counted_answer_has_the_headers_and_oauth_refusals_their_format() -> anyhow::Result<()>
{
    let app = limited_app(2).await?;
    let http = reqwest::Client::new();
    let wrong_method = http.post(app.url("/openapi.json")).send().await?;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&wrong_method, "ratelimit-limit"), Some(2));
    assert_eq!(header(&wrong_method, "ratelimit-remaining"), Some(1));
    assert!(header(&wrong_method, "ratelimit-reset").is_some());
    assert!(wrong_method.headers().get("allow").is_some());
    assert_problem(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await?;

    let token = || {
        http.post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
            ])
            .send()
    };
    for _ in 0..2 {
        assert_eq!(token().await?.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = token().await?;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&refused, "retry-after").is_some_and(|seconds| seconds >= 1));
    assert_eq!(header(&refused, "ratelimit-remaining"), Some(0));
    let body: serde_json::Value = refused.json().await?;
    assert_eq!(body["error"], "rate_limited", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    Ok(())
}
