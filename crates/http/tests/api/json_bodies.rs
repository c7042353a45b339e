//! Every JSON request body is one object with no key given twice, whatever the route: an
//! array in place of the object, or a repeated key at any depth, is a 422 naming the field,
//! and nothing is written.

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::both_engines;
use crate::helpers::{ADMIN, STAFF_PASSWORD, TestApp, UserClient, assert_problem, fresh_key};
use crate::transactions::{customer_with, deposit, id};

both_engines!(
    every_json_route_refuses_an_array_and_a_repeated_key,
    a_repeated_amount_books_nothing,
    a_repeated_hold_amount_reserves_nothing,
);

/// Every operation of the OpenAPI document that takes a JSON body, as (method, path).
async fn json_body_routes(app: &TestApp) -> anyhow::Result<Vec<(Method, String)>> {
    let document = app.anonymous().get_ok_json("/openapi.json").await?;
    let mut routes = Vec::new();
    for (path, operations) in document["paths"].as_object().context("paths")? {
        for (method, operation) in operations.as_object().context("operations")? {
            if operation["requestBody"]["content"]["application/json"].is_object() {
                let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())?;
                let path = path
                    .replace("{id}", &uuid::Uuid::now_v7().to_string())
                    .replace("{account_id}", &uuid::Uuid::now_v7().to_string());
                routes.push((method, path));
            }
        }
    }
    Ok(routes)
}

/// Sends `body` as JSON, with an `Idempotency-Key` (needed on money routes, ignored elsewhere).
async fn send_raw(
    client: &UserClient,
    method: Method,
    path: &str,
    body: &'static str,
) -> anyhow::Result<reqwest::Response> {
    Ok(client
        .request(method, path)
        .header("content-type", "application/json")
        .header("Idempotency-Key", fresh_key())
        .body(body)
        .send()
        .await?)
}

async fn every_json_route_refuses_an_array_and_a_repeated_key(app: TestApp) -> anyhow::Result<()> {
    let admin = app.login(ADMIN, STAFF_PASSWORD).await?;
    let routes = json_body_routes(&app).await?;
    // The routes the probe found open, at least: the table is not empty by accident.
    for expected in ["/auth/login", "/v1/customers", "/v1/transactions"] {
        assert!(
            routes.iter().any(|(_, path)| path == expected),
            "{expected}: {routes:?}"
        );
    }
    let customers_before = app.count("customers").await?;
    for (method, path) in routes {
        // The OAuth refresh endpoint answers every malformed body in RFC 6749's format.
        let oauth = path.starts_with("/oauth/");
        for (body, field) in [
            (r#"["nick", {"nickname": "x"}]"#, "body"),
            ("[]", "body"),
            (r#"{"nickname": "a", "nickname": "b"}"#, "nickname"),
            (
                r#"{"amount": {"amount": "1.00", "amount": "9.00"}}"#,
                "amount.amount",
            ),
        ] {
            let response = send_raw(&admin, method.clone(), &path, body).await?;
            if oauth {
                assert_eq!(
                    response.status(),
                    StatusCode::BAD_REQUEST,
                    "{method} {path} {body}"
                );
                let answer: Value = response.json().await?;
                assert_eq!(answer["error"], "invalid_request", "{method} {path} {body}");
                continue;
            }
            let problem = assert_problem(
                response,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await
            .with_context(|| format!("{method} {path} {body}"))?;
            assert_eq!(
                problem["errors"][0]["field"], field,
                "{method} {path} {body}"
            );
        }
    }
    assert_eq!(app.count("customers").await?, customers_before);
    Ok(())
}

async fn a_repeated_amount_books_nothing(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    deposit(&teller, &account, "10.00").await?;
    let account_id = id(&account);
    let transactions_before = app.count("transactions").await?;
    let top_level = format!(
        r#"{{"type": "WITHDRAWAL", "source_account_id": "{account_id}",
            "amount": {{"amount": "0.01", "currency": "EUR"}},
            "amount": {{"amount": "7.00", "currency": "EUR"}}}}"#
    );
    let nested = format!(
        r#"{{"type": "WITHDRAWAL", "source_account_id": "{account_id}",
            "amount": {{"amount": "1.00", "currency": "EUR", "amount": "5.00"}}}}"#
    );
    for (body, field) in [(top_level, "amount"), (nested, "amount.amount")] {
        let response = ada
            .request(Method::POST, "/v1/transactions")
            .header("content-type", "application/json")
            .header("Idempotency-Key", fresh_key())
            .body(body)
            .send()
            .await?;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_eq!(ada.current_balance(account_id).await?, "10.00");
    assert_eq!(app.count("transactions").await?, transactions_before);
    Ok(())
}

async fn a_repeated_hold_amount_reserves_nothing(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    deposit(&teller, &account, "10.00").await?;
    let path = format!("/v1/accounts/{}/holds", id(&account));
    let balance_before = ada
        .get_ok_json(&format!("/v1/accounts/{}/balance", id(&account)))
        .await?;
    for (body, field) in [
        (
            r#"{"amount": {"amount": "0.01", "currency": "EUR"}, "amount": {"amount": "7.00", "currency": "EUR"}}"#,
            "amount",
        ),
        (
            r#"{"amount": {"amount": "1.00", "currency": "EUR", "amount": "5.00"}}"#,
            "amount.amount",
        ),
    ] {
        let problem = assert_problem(
            send_raw(&ada, Method::POST, &path, body).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let balance_after = ada
        .get_ok_json(&format!("/v1/accounts/{}/balance", id(&account)))
        .await?;
    assert_eq!(balance_after, balance_before);
    assert_eq!(app.count("holds").await?, 0);
    Ok(())
}
