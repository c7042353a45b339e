//! Holds: they lower `available`, not `current`; capture, release, expiry; closing an account
//! with a pending hold; the daily limit.

use anyhow::Context as _;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::both_engines;
use crate::each_engine;
use crate::helpers::{
    CUSTOMER_PASSWORD, Engine, ManualClock, TestApp, UserClient, assert_problem, spawn_app_with,
    test_settings,
};

both_engines!(
    holds_reduce_available_not_current,
    a_partial_capture_frees_the_rest,
    a_released_hold_cannot_be_captured,
    closing_needs_no_pending_hold_and_a_zero_balance,
    a_daily_limit_set_by_a_teller_is_enforced,
    hold_requests_need_an_idempotency_key,
);

/// A POST with a fresh `Idempotency-Key`.
pub(crate) async fn post_once(
    client: &UserClient,
    path: &str,
    body: &Value,
) -> anyhow::Result<Response> {
    Ok(client
        .request(Method::POST, path)
        .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
        .json(body)
        .send()
        .await?)
}

/// `{"amount": amount, "currency": "EUR"}`.
pub(crate) fn eur(amount: &str) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

/// The `id` of a JSON resource.
pub(crate) fn id(value: &Value) -> anyhow::Result<String> {
    Ok(value["id"].as_str().context("id")?.to_owned())
}

/// A teller deposits `amount` EUR on `account`.
pub(crate) async fn deposit(
    teller: &UserClient,
    account: &str,
    amount: &str,
) -> anyhow::Result<Value> {
    let body = json!({"type": "DEPOSIT", "destination_account_id": account, "amount": eur(amount)});
    let response = post_once(teller, "/v1/transactions", &body).await?;
    anyhow::ensure!(
        response.status() == StatusCode::CREATED,
        "deposit failed: {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// The owner withdraws `amount` EUR from `account`.
pub(crate) async fn withdraw(
    client: &UserClient,
    account: &str,
    amount: &str,
) -> anyhow::Result<Response> {
    let body = json!({"type": "WITHDRAWAL", "source_account_id": account, "amount": eur(amount)});
    post_once(client, "/v1/transactions", &body).await
}

/// A verified customer's client, a teller, and the customer's new current account's id.
pub(crate) async fn funded_account(
    app: &TestApp,
    email: &str,
    amount: &str,
) -> anyhow::Result<(UserClient, UserClient, String)> {
    let (_, client) = app.verified_customer(email).await?;
    let account = client.open_account(&json!({"type": "COURANT"})).await?;
    let account = id(&account)?;
    let teller = app.teller().await?;
    if amount != "0.00" {
        deposit(&teller, &account, amount).await?;
    }
    Ok((client, teller, account))
}

/// Places a hold and returns it.
async fn place(client: &UserClient, account: &str, amount: &str) -> anyhow::Result<Value> {
    let path = format!("/v1/accounts/{account}/holds");
    let response = post_once(client, &path, &json!({"amount": eur(amount)})).await?;
    anyhow::ensure!(
        response.status() == StatusCode::CREATED,
        "hold failed: {} {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    Ok(response.json().await?)
}

/// The account's `{current, available, pending_holds}` amounts.
async fn balances(client: &UserClient, account: &str) -> anyhow::Result<[String; 3]> {
    let body: Value = client
        .get(&format!("/v1/accounts/{account}/balance"))
        .await?
        .json()
        .await?;
    let amount = |key: &str| body[key]["amount"].as_str().unwrap_or("?").to_owned();
    Ok([
        amount("current"),
        amount("available"),
        amount("pending_holds"),
    ])
}

async fn holds_reduce_available_not_current(app: TestApp) -> anyhow::Result<()> {
    let (client, _, account) = funded_account(&app, "ada@example.org", "100.00").await?;
    let path = format!("/v1/accounts/{account}/holds");
    let response = post_once(&client, &path, &json!({"amount": eur("30.00")})).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let hold: Value = response.json().await?;
    assert_eq!(location, Some(format!("/v1/holds/{}", id(&hold)?)));
    assert_eq!(hold["status"], "ACTIVE");
    assert_eq!(hold["account_id"], account.as_str());
    assert_eq!(hold["amount"], eur("30.00"));
    assert_eq!(
        balances(&client, &account).await?,
        ["100.00", "70.00", "30.00"]
    );
    let shown: Value = client
        .get(&format!("/v1/accounts/{account}"))
        .await?
        .json()
        .await?;
    assert_eq!(shown["balance"]["current"]["amount"], "100.00");
    assert_eq!(shown["balance"]["available"]["amount"], "70.00");
    let read: Value = client
        .get(&format!("/v1/holds/{}", id(&hold)?))
        .await?
        .json()
        .await?;
    assert_eq!(read, hold);
    // Another customer does not see it; more than is available is refused.
    let (_, other) = app.verified_customer("bob@example.org").await?;
    assert_problem(
        other.get(&format!("/v1/holds/{}", id(&hold)?)).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        post_once(&client, &path, &json!({"amount": eur("70.01")})).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_funds",
    )
    .await?;
    Ok(())
}

async fn a_partial_capture_frees_the_rest(app: TestApp) -> anyhow::Result<()> {
    let (client, _, account) = funded_account(&app, "ada@example.org", "100.00").await?;
    let hold = place(&client, &account, "30.00").await?;
    let capture_path = format!("/v1/holds/{}/capture", id(&hold)?);
    let response = post_once(&client, &capture_path, &json!({"amount": eur("10.00")})).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let transaction: Value = response.json().await?;
    assert_eq!(transaction["type"], "HOLD_CAPTURE");
    assert_eq!(transaction["status"], "COMPLETED");
    assert_eq!(transaction["amount"], eur("10.00"));
    assert_eq!(
        balances(&client, &account).await?,
        ["90.00", "90.00", "0.00"]
    );
    let captured: Value = client
        .get(&format!("/v1/holds/{}", id(&hold)?))
        .await?
        .json()
        .await?;
    assert_eq!(captured["status"], "CAPTURED");
    assert_eq!(captured["captured_amount"], eur("10.00"));
    assert_eq!(captured["capture_transaction_id"], transaction["id"]);
    // Capturing more than the hold is refused.
    let second = place(&client, &account, "5.00").await?;
    assert_problem(
        post_once(
            &client,
            &format!("/v1/holds/{}/capture", id(&second)?),
            &json!({"amount": eur("5.01")}),
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

async fn a_released_hold_cannot_be_captured(app: TestApp) -> anyhow::Result<()> {
    let (client, _, account) = funded_account(&app, "ada@example.org", "100.00").await?;
    let hold = place(&client, &account, "40.00").await?;
    let hold_path = format!("/v1/holds/{}", id(&hold)?);
    let response = post_once(&client, &format!("{hold_path}/release"), &json!({})).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let released: Value = response.json().await?;
    assert_eq!(released["status"], "RELEASED");
    assert_eq!(
        balances(&client, &account).await?,
        ["100.00", "100.00", "0.00"]
    );
    assert_problem(
        post_once(&client, &format!("{hold_path}/capture"), &json!({})).await?,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await?;
    assert_problem(
        post_once(&client, &format!("{hold_path}/release"), &json!({})).await?,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await?;
    Ok(())
}

async fn closing_needs_no_pending_hold_and_a_zero_balance(app: TestApp) -> anyhow::Result<()> {
    let (client, teller, account) = funded_account(&app, "ada@example.org", "0.00").await?;
    let path = format!("/v1/accounts/{account}");
    // An overdraft lets a hold sit on an empty account.
    let overdraft = json!({"overdraft_limit": eur("50.00")});
    assert_eq!(
        teller.patch(&path, &overdraft, None).await?.status(),
        StatusCode::OK
    );
    let hold = place(&client, &account, "20.00").await?;
    assert_problem(
        client.delete(&path).await?,
        StatusCode::CONFLICT,
        "account_not_empty",
    )
    .await?;
    let release = format!("/v1/holds/{}/release", id(&hold)?);
    assert_eq!(
        post_once(&client, &release, &json!({})).await?.status(),
        StatusCode::OK
    );
    deposit(&teller, &account, "5.00").await?;
    assert_problem(
        client.delete(&path).await?,
        StatusCode::CONFLICT,
        "account_not_empty",
    )
    .await?;
    assert_eq!(
        withdraw(&client, &account, "5.00").await?.status(),
        StatusCode::CREATED
    );
    let closed = client.delete(&path).await?;
    assert_eq!(closed.status(), StatusCode::OK);
    let closed: Value = closed.json().await?;
    assert_eq!(closed["status"], "CLOSED");
    assert!(closed["closed_at"].is_string());
    Ok(())
}

async fn a_daily_limit_set_by_a_teller_is_enforced(app: TestApp) -> anyhow::Result<()> {
    let (client, teller, account) = funded_account(&app, "ada@example.org", "500.00").await?;
    let path = format!("/v1/accounts/{account}");
    let shown: Value = client.get(&path).await?.json().await?;
    assert_eq!(shown["daily_limit"], eur("10000.00"), "the bank's default");
    // Sending the representation's limit back is no change, even for the owner.
    let same = json!({"daily_limit": eur("10000.00")});
    assert_eq!(
        client.patch(&path, &same, None).await?.status(),
        StatusCode::OK
    );
    let limit = json!({"daily_limit": eur("50.00")});
    assert_problem(
        client.patch(&path, &limit, None).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let changed = teller.patch(&path, &limit, None).await?;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await?;
    assert_eq!(changed["daily_limit"], eur("50.00"));
    assert_eq!(
        withdraw(&client, &account, "40.00").await?.status(),
        StatusCode::CREATED
    );
    assert_problem(
        withdraw(&client, &account, "20.00").await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "limit_exceeded",
    )
    .await?;
    // `null` restores the default.
    let reset = teller
        .patch(&path, &json!({"daily_limit": null}), None)
        .await?;
    let reset: Value = reset.json().await?;
    assert_eq!(reset["daily_limit"], eur("10000.00"));
    assert_eq!(
        withdraw(&client, &account, "20.00").await?.status(),
        StatusCode::CREATED
    );
    Ok(())
}

async fn hold_requests_need_an_idempotency_key(app: TestApp) -> anyhow::Result<()> {
    let (client, _, account) = funded_account(&app, "ada@example.org", "100.00").await?;
    let path = format!("/v1/accounts/{account}/holds");
    let body = json!({"amount": eur("10.00")});
    assert_problem(
        client.post(&path, &body).await?,
        StatusCode::BAD_REQUEST,
        "idempotency_key_missing",
    )
    .await?;
    let send = || {
        client
            .request(Method::POST, &path)
            .header("Idempotency-Key", "hold-1")
            .json(&body)
            .send()
    };
    let first = send().await?;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await?;
    let again = send().await?;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again
            .headers()
            .get("idempotency-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(again.json::<Value>().await?, first);
    assert_eq!(
        balances(&client, &account).await?,
        ["100.00", "90.00", "10.00"],
        "a replay reserves nothing more"
    );
    Ok(())
}

each_engine!(an_expired_hold_frees_its_money);

async fn an_expired_hold_frees_its_money(engine: Engine) -> anyhow::Result<()> {
    let clock = ManualClock::new();
    let app = spawn_app_with(engine, test_settings(), clock.clone()).await?;
    let (client, _, account) = funded_account(&app, "ada@example.org", "100.00").await?;
    let expires_at =
        (coffre_app::ports::Clock::now(&clock) + time::Duration::hours(1)).format(&Rfc3339)?;
    let path = format!("/v1/accounts/{account}/holds");
    let body = json!({"amount": eur("60.00"), "expires_at": expires_at});
    let hold: Value = post_once(&client, &path, &body).await?.json().await?;
    assert_eq!(
        balances(&client, &account).await?,
        ["100.00", "40.00", "60.00"]
    );
    // Beyond the 30-day maximum: refused.
    let far =
        (coffre_app::ports::Clock::now(&clock) + time::Duration::days(31)).format(&Rfc3339)?;
    assert_problem(
        post_once(
            &client,
            &path,
            &json!({"amount": eur("1.00"), "expires_at": far}),
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    clock.advance(time::Duration::hours(2));
    // Sessions end after 15 idle minutes: log in again after the jump.
    let client = app.login("ada@example.org", CUSTOMER_PASSWORD).await?;
    assert_eq!(
        balances(&client, &account).await?,
        ["100.00", "100.00", "0.00"]
    );
    assert_problem(
        post_once(
            &client,
            &format!("/v1/holds/{}/capture", id(&hold)?),
            &json!({}),
        )
        .await?,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await?;
    assert_eq!(
        withdraw(&client, &account, "100.00").await?.status(),
        StatusCode::CREATED,
        "the expired hold no longer reserves anything"
    );
    Ok(())
}
