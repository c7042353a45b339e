//! `/auth`: sessions, CSRF, throttling, and authentication everywhere.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    ManualClock, STAFF_PASSWORD, TELLER, TestApp, assert_problem, statuses_of_all,
};
use crate::{both_engines, both_engines_with_clock};

both_engines!(
    login_sets_a_strict_http_only_session_cookie_and_returns_a_csrf_token,
    a_wrong_password_and_an_unknown_user_get_the_same_401,
    an_account_is_locked_after_too_many_failures_even_with_the_right_password,
    cookie_authenticated_writes_need_the_csrf_token,
    logout_ends_the_session_on_the_server,
    login_issues_a_new_session_id_and_drops_the_old_one,
    every_v1_endpoint_but_sign_up_requires_authentication,
    an_address_is_locked_after_too_many_failures_across_accounts,
    parallel_guesses_never_exceed_the_allowance,
    behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for,
    x_forwarded_for_from_an_untrusted_peer_is_ignored,
);

both_engines_with_clock!(
    a_session_expires_after_its_idle_timeout,
    activity_keeps_a_session_alive_until_its_absolute_expiry,
);

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("coffre_session="))
        .map(str::to_owned)
}

async fn login_sets_a_strict_http_only_session_cookie_and_returns_a_csrf_token(
    app: TestApp,
) -> anyhow::Result<()> {
    let response = app
        .anonymous()
        .post(
            "/auth/login",
            &json!({"username": "TELLER", "password": STAFF_PASSWORD}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).unwrap_or_default();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain-http dev server: {cookie}"
    );
    let body: Value = response.json().await?;
    assert_eq!(body["csrf_token"].as_str().map(str::len), Some(43));
    assert_eq!(body["user"]["role"], "teller");
    Ok(())
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_401(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    let wrong = client
        .post(
            "/auth/login",
            &json!({"username": TELLER, "password": "not the password"}),
        )
        .await?;
    assert!(wrong.headers().contains_key("www-authenticate"));
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    let unknown = client
        .post(
            "/auth/login",
            &json!({"username": "nobody", "password": "not the password"}),
        )
        .await?;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    assert_eq!(wrong, unknown);
    Ok(())
}

async fn an_account_is_locked_after_too_many_failures_even_with_the_right_password(
    app: TestApp,
) -> anyhow::Result<()> {
    let client = app.anonymous();
    // The test configuration allows 3 attempts per account per window.
    for _ in 0..3 {
        let response = client
            .post(
                "/auth/login",
                &json!({"username": TELLER, "password": "guess guess guess"}),
            )
            .await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = client
        .post(
            "/auth/login",
            &json!({"username": TELLER, "password": STAFF_PASSWORD}),
        )
        .await?;
    let retry_after: i64 = locked.headers()["retry-after"].to_str()?.parse()?;
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    // Another account from the same address is not locked by the teller's failures.
    app.login(crate::helpers::ADMIN, STAFF_PASSWORD).await?;
    Ok(())
}

async fn cookie_authenticated_writes_need_the_csrf_token(app: TestApp) -> anyhow::Result<()> {
    let mut teller = app.teller().await?;
    let token = teller.csrf.take();
    let without = teller
        .post(
            "/v1/customers",
            &crate::helpers::sign_up_body("bob@example.org"),
        )
        .await?;
    assert_problem(without, StatusCode::FORBIDDEN, "forbidden").await?;
    teller.csrf = Some("forged".into());
    let forged = teller.post("/auth/logout", &json!({})).await?;
    assert_problem(forged, StatusCode::FORBIDDEN, "forbidden").await?;
    assert_eq!(app.count("customers").await?, 0);
    teller.csrf = token;
    // Reads need no token.
    let read = teller
        .request(Method::GET, "/v1/accounts")
        .header("X-CSRF-Token", "")
        .send()
        .await?;
    assert_eq!(read.status(), StatusCode::OK);
    Ok(())
}

async fn logout_ends_the_session_on_the_server(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let login = app
        .anonymous()
        .post(
            "/auth/login",
            &json!({"username": TELLER, "password": STAFF_PASSWORD}),
        )
        .await?;
    let cookie = session_cookie(&login).unwrap_or_default();
    let csrf = login.json::<Value>().await?["csrf_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let pair = cookie.split(';').next().unwrap_or_default().to_owned();
    let raw = reqwest::Client::new();
    let logout = raw
        .post(app.url("/auth/logout"))
        .header("cookie", &pair)
        .header("x-csrf-token", &csrf)
        .send()
        .await?;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(session_cookie(&logout).is_some_and(|c| c.contains("Max-Age=0")));
    // Replaying the old cookie (as a stolen copy would) no longer works.
    let replay = raw
        .get(app.url("/v1/accounts"))
        .header("cookie", &pair)
        .send()
        .await?;
    assert_problem(replay, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    // Other sessions of the same user are unaffected.
    assert_eq!(teller.get("/v1/accounts").await?.status(), StatusCode::OK);
    Ok(())
}

async fn login_issues_a_new_session_id_and_drops_the_old_one(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    let credentials = json!({"username": TELLER, "password": STAFF_PASSWORD});
    let first = client.post("/auth/login", &credentials).await?;
    let first_cookie = session_cookie(&first).unwrap_or_default();
    let second = client.post("/auth/login", &credentials).await?;
    let second_cookie = session_cookie(&second).unwrap_or_default();
    assert_ne!(first_cookie, second_cookie);
    let old = first_cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let replay = reqwest::Client::new()
        .get(app.url("/v1/accounts"))
        .header("cookie", old)
        .send()
        .await?;
    assert_problem(replay, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    assert_eq!(client.get("/v1/accounts").await?.status(), StatusCode::OK);
    Ok(())
}

async fn every_v1_endpoint_but_sign_up_requires_authentication(app: TestApp) -> anyhow::Result<()> {
    let id = uuid::Uuid::now_v7();
    let client = app.anonymous();
    let calls = [
        (Method::GET, "/v1/customers".to_owned()),
        (Method::GET, "/v1/customers/me".to_owned()),
        (Method::GET, format!("/v1/customers/{id}")),
        (Method::POST, format!("/v1/customers/{id}/kyc")),
        (Method::POST, "/v1/accounts".to_owned()),
        (Method::GET, "/v1/accounts".to_owned()),
        (Method::GET, format!("/v1/accounts/{id}")),
        (Method::PATCH, format!("/v1/accounts/{id}")),
        (Method::PUT, format!("/v1/accounts/{id}")),
        (Method::DELETE, format!("/v1/accounts/{id}")),
        (Method::POST, format!("/v1/accounts/{id}/freeze")),
        (Method::POST, format!("/v1/accounts/{id}/unfreeze")),
        (Method::GET, format!("/v1/accounts/{id}/balance")),
        (Method::POST, "/auth/logout".to_owned()),
    ];
    for (method, path) in calls {
        let response = client
            .request(method.clone(), &path)
            .json(&json!({}))
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    Ok(())
}

async fn an_address_is_locked_after_too_many_failures_across_accounts(
    app: TestApp,
) -> anyhow::Result<()> {
    let client = app.anonymous();
    // The test configuration allows 6 attempts per address; spread over unknown accounts so
    // that no single account reaches its own limit.
    for n in 0..6 {
        let attempt = json!({"username": format!("nobody{n}"), "password": "guess guess guess"});
        assert_eq!(
            client.post("/auth/login", &attempt).await?.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = client
        .post(
            "/auth/login",
            &json!({"username": TELLER, "password": STAFF_PASSWORD}),
        )
        .await?;
    assert_problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    Ok(())
}

async fn a_session_expires_after_its_idle_timeout(
    app: TestApp,
    clock: ManualClock,
) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    clock.advance(time::Duration::minutes(14));
    assert_eq!(teller.get("/v1/accounts").await?.status(), StatusCode::OK);
    clock.advance(time::Duration::minutes(15));
    assert_problem(
        teller.get("/v1/accounts").await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    // Expired sessions are deleted, not just refused.
    assert_eq!(app.count("sessions").await?, 0);
    Ok(())
}

async fn activity_keeps_a_session_alive_until_its_absolute_expiry(
    app: TestApp,
    clock: ManualClock,
) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    // 7 h 50 min of activity every 10 minutes: the idle timeout (15 min) never strikes.
    for _ in 0..47 {
        clock.advance(time::Duration::minutes(10));
        assert_eq!(teller.get("/v1/customers").await?.status(), StatusCode::OK);
    }
    clock.advance(time::Duration::minutes(10));
    assert_problem(
        teller.get("/v1/customers").await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    Ok(())
}

async fn parallel_guesses_never_exceed_the_allowance(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    let guess = json!({"username": TELLER, "password": "guess guess guess"});
    let attempts = (0..20).map(|_| client.post("/auth/login", &guess));
    let statuses = statuses_of_all(attempts).await?;
    let verified = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((verified, refused), (3, 17), "{statuses:?}");
    let right = client
        .post(
            "/auth/login",
            &json!({"username": TELLER, "password": STAFF_PASSWORD}),
        )
        .await?;
    assert_problem(right, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    Ok(())
}

async fn guess_from(
    app: &TestApp,
    username: &str,
    forwarded_for: &str,
) -> anyhow::Result<StatusCode> {
    let response = app
        .anonymous()
        .request(reqwest::Method::POST, "/auth/login")
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": "guess guess guess"}))
        .send()
        .await?;
    Ok(response.status())
}

async fn behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for(
    app: TestApp,
) -> anyhow::Result<()> {
    let settings = coffre_http::HttpSettings {
        trusted_proxies: vec![std::net::IpAddr::from([127, 0, 0, 1])],
        ..crate::helpers::test_settings()
    };
    let proxied =
        crate::helpers::spawn_app_with(app.engine, settings, coffre_local::SystemClock).await?;
    // One client, spoofing a left-most hop each time: only the hop the proxy added counts.
    for n in 0..6 {
        let status = guess_from(
            &proxied,
            &format!("nobody{n}"),
            &format!("10.9.9.{n}, 203.0.113.5"),
        )
        .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        guess_from(&proxied, "nobody9", "203.0.113.5").await?,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not locked out.
    let other = proxied
        .anonymous()
        .request(reqwest::Method::POST, "/auth/login")
        .header("x-forwarded-for", "203.0.113.6")
        .json(&json!({"username": TELLER, "password": STAFF_PASSWORD}))
        .send()
        .await?;
    assert_eq!(other.status(), StatusCode::OK);
    Ok(())
}

async fn x_forwarded_for_from_an_untrusted_peer_is_ignored(app: TestApp) -> anyhow::Result<()> {
    // No trusted proxy: a client cannot dodge its address's allowance by inventing hops.
    for n in 0..6 {
        let status = guess_from(&app, &format!("nobody{n}"), &format!("198.51.100.{n}")).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        guess_from(&app, "nobody9", "198.51.100.77").await?,
        StatusCode::TOO_MANY_REQUESTS
    );
    Ok(())
}
