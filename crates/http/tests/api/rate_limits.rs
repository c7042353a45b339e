//! Request rate limits: per client and route class, 429 with `Retry-After`, and the
//! `RateLimit-*` headers on every counted response.

use std::num::NonZeroU32;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    Engine, STAFF_PASSWORD, TELLER, TestApp, assert_problem, spawn_app_with, test_settings,
};

/// A test app whose clients may make `per_minute` requests a minute per route class.
async fn limited_app(per_minute: u32) -> anyhow::Result<TestApp> {
    let settings = coffre_http::HttpSettings {
        rate_limit_per_minute: NonZeroU32::new(per_minute)
            .ok_or_else(|| anyhow::anyhow!("a limit must be positive"))?,
        ..test_settings()
    };
    spawn_app_with(Engine::Sqlite, settings, coffre_app::ports::SystemClock).await
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
    // Another client (another session) has its own allowance.
    let other = app.login(TELLER, STAFF_PASSWORD).await?;
    assert_eq!(other.get("/v1/customers").await?.status(), StatusCode::OK);
    // Health probes are never counted.
    for _ in 0..10 {
        let probe = reqwest::get(app.url("/health/live")).await?;
        assert_eq!(probe.status(), StatusCode::OK);
        assert!(probe.headers().get("ratelimit-limit").is_none());
    }
    Ok(())
}
