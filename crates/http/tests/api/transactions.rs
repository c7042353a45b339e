//! `/v1/transactions`: moving money, refusals, roles, reading, listing, reversing.

use anyhow::Context as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{AUDITOR, STAFF_PASSWORD, TestApp, UserClient, assert_problem};

both_engines!(
    deposits_withdrawals_and_transfers_move_money,
    every_refusal_has_its_code_and_moves_nothing,
    the_daily_limit_and_the_livret_a_ceiling_are_enforced,
    roles_decide_who_moves_whose_money,
    malformed_requests_are_refused_field_by_field,
    transactions_are_read_by_their_owners_and_listed_by_staff,
    a_transaction_is_reversed_once,
);

pub(crate) fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap_or_default()
}

pub(crate) fn eur(amount: &str) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

/// A verified customer with an account of `account_type`.
pub(crate) async fn customer_with(
    app: &TestApp,
    email: &str,
    account_type: &str,
) -> anyhow::Result<(UserClient, Value)> {
    let (_, client) = app.verified_customer(email).await?;
    let account = client.open_account(&json!({"type": account_type})).await?;
    Ok((client, account))
}

/// A teller's cash deposit; must succeed.
pub(crate) async fn deposit(
    teller: &UserClient,
    account: &Value,
    amount: &str,
) -> anyhow::Result<Value> {
    let body =
        json!({"type": "DEPOSIT", "destination_account_id": id(account), "amount": eur(amount)});
    let response = teller.post_once("/v1/transactions", &body).await?;
    anyhow::ensure!(
        response.status() == StatusCode::CREATED,
        "deposit failed: {}",
        response.text().await?
    );
    Ok(response.json().await?)
}

fn withdrawal(account: &Value, amount: &str) -> Value {
    json!({"type": "WITHDRAWAL", "source_account_id": id(account), "amount": eur(amount)})
}

fn transfer(source: &Value, destination: &Value, amount: &str) -> Value {
    json!({"type": "TRANSFER", "source_account_id": id(source),
        "destination_account_id": id(destination), "amount": eur(amount)})
}

async fn deposits_withdrawals_and_transfers_move_money(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, ada_account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let (bob, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    let body = json!({"type": "DEPOSIT", "destination_account_id": id(&ada_account),
        "amount": eur("100.00"), "label": "Cash at the counter"});
    let response = teller.post_once("/v1/transactions", &body).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str()?.to_owned();
    let deposit: Value = response.json().await?;
    assert_eq!(location, format!("/v1/transactions/{}", id(&deposit)));
    assert_eq!(deposit["type"], "DEPOSIT");
    assert_eq!(deposit["status"], "COMPLETED");
    assert_eq!(deposit["amount"], eur("100.00"));
    assert_eq!(deposit["source_account_id"], Value::Null);
    assert_eq!(deposit["destination_account_id"], ada_account["id"]);
    assert_eq!(deposit["label"], "Cash at the counter");
    let postings = deposit["postings"].as_array().context("postings")?;
    assert_eq!(postings.len(), 2);
    assert_eq!(postings[0]["direction"], "DEBIT");
    assert_eq!(
        postings[1],
        json!({"account_id": ada_account["id"], "direction": "CREDIT", "amount": eur("100.00")})
    );
    assert!(deposit["created_at"].is_string() && deposit["completed_at"].is_string());

    let response = ada
        .post_once("/v1/transactions", &withdrawal(&ada_account, "30.00"))
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let by_iban = json!({"type": "TRANSFER", "source_account_id": id(&ada_account),
        "destination_iban": bob_account["iban"], "amount": eur("20.00")});
    let response = ada.post_once("/v1/transactions", &by_iban).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let sent: Value = response.json().await?;
    assert_eq!(sent["destination_account_id"], bob_account["id"]);
    assert_eq!(sent["counterparty_iban"], bob_account["iban"]);
    let response = bob
        .post_once(
            "/v1/transactions",
            &transfer(&bob_account, &ada_account, "5.00"),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(ada.current_balance(id(&ada_account)).await?, "55.00");
    assert_eq!(bob.current_balance(id(&bob_account)).await?, "15.00");
    Ok(())
}

async fn every_refusal_has_its_code_and_moves_nothing(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let post = |body: Value| {
        let ada = &ada;
        async move { ada.post_once("/v1/transactions", &body).await }
    };
    let response = post(withdrawal(&account, "0.01")).await?;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_funds",
    )
    .await?;
    let usd = json!({"type": "DEPOSIT", "destination_account_id": id(&account),
        "amount": {"amount": "1.00", "currency": "USD"}});
    let response = teller.post_once("/v1/transactions", &usd).await?;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "currency_mismatch",
    )
    .await?;
    let before = app.count("transactions").await?;
    assert_eq!(before, 0, "refusals leave no transaction");

    let (_, empty) = customer_with(&app, "bob@example.org", "COURANT").await?;
    let closed = teller
        .delete(&format!("/v1/accounts/{}", id(&empty)))
        .await?;
    assert_eq!(closed.status(), StatusCode::OK);
    let to_closed =
        json!({"type": "DEPOSIT", "destination_account_id": id(&empty), "amount": eur("1.00")});
    let response = teller.post_once("/v1/transactions", &to_closed).await?;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "account_closed").await?;

    deposit(&teller, &account, "10.00").await?;
    let frozen = teller
        .post(
            &format!("/v1/accounts/{}/freeze", id(&account)),
            &json!({"reason": "suspicious activity"}),
        )
        .await?;
    assert_eq!(frozen.status(), StatusCode::OK);
    let response = post(withdrawal(&account, "1.00")).await?;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "account_frozen").await?;
    assert_eq!(ada.current_balance(id(&account)).await?, "10.00");
    Ok(())
}

async fn the_daily_limit_and_the_livret_a_ceiling_are_enforced(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    deposit(&teller, &account, "15000.00").await?;
    // Cash paid out at the desk counts against the day's limit too; what the customer takes
    // themselves stays at or under the step-up threshold.
    let response = teller
        .post_once("/v1/transactions", &withdrawal(&account, "9000.00"))
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = ada
        .post_once("/v1/transactions", &withdrawal(&account, "1000.00"))
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = ada
        .post_once("/v1/transactions", &withdrawal(&account, "0.01"))
        .await?;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "limit_exceeded").await?;

    let livret = ada.open_account(&json!({"type": "LIVRET_A"})).await?;
    let over = json!({"type": "DEPOSIT", "destination_account_id": id(&livret), "amount": eur("22950.01")});
    let response = teller.post_once("/v1/transactions", &over).await?;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "limit_exceeded").await?;
    deposit(&teller, &livret, "100.00").await?;

    let (_, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    let response = ada
        .post_once(
            "/v1/transactions",
            &transfer(&livret, &bob_account, "10.00"),
        )
        .await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "source_account_id");
    let response = ada
        .post_once("/v1/transactions", &transfer(&livret, &account, "10.00"))
        .await?;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "to its owner's current account"
    );
    Ok(())
}

async fn roles_decide_who_moves_whose_money(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, ada_account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let (_, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    deposit(&teller, &bob_account, "50.00").await?;
    let cash_in = json!({"type": "DEPOSIT", "destination_account_id": id(&ada_account), "amount": eur("5.00")});
    let response = ada.post_once("/v1/transactions", &cash_in).await?;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await?;
    let response = ada
        .post_once("/v1/transactions", &withdrawal(&bob_account, "5.00"))
        .await?;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await?;
    let response = ada
        .post_once(
            "/v1/transactions",
            &transfer(&bob_account, &ada_account, "5.00"),
        )
        .await?;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await?;
    let auditor = app.login(AUDITOR, STAFF_PASSWORD).await?;
    let response = auditor
        .post_once("/v1/transactions", &withdrawal(&bob_account, "5.00"))
        .await?;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await?;
    let response = teller
        .post_once("/v1/transactions", &withdrawal(&bob_account, "5.00"))
        .await?;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "tellers pay out of any account"
    );
    assert_eq!(teller.current_balance(id(&bob_account)).await?, "45.00");
    Ok(())
}

async fn malformed_requests_are_refused_field_by_field(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (_, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let account_id = id(&account);
    let cases = [
        (
            json!({"type": "DEPOSIT", "amount": eur("1.00")}),
            "destination_account_id",
        ),
        (
            json!({"type": "WITHDRAWAL", "destination_account_id": account_id, "amount": eur("1.00")}),
            "source_account_id",
        ),
        (
            json!({"type": "TRANSFER", "source_account_id": account_id, "amount": eur("1.00")}),
            "destination_account_id",
        ),
        (
            json!({"type": "DEPOSIT", "destination_account_id": account_id, "amount": eur("0.00")}),
            "amount.amount",
        ),
        (
            json!({"type": "DEPOSIT", "destination_account_id": account_id, "amount": eur("1.001")}),
            "amount.amount",
        ),
        (
            json!({"type": "DEPOSIT", "destination_account_id": account_id, "amount": eur("1.00"), "label": "x".repeat(141)}),
            "label",
        ),
        (
            json!({"type": "DEPOSIT", "destination_account_id": account_id, "amount": eur("1.00"), "fee": "0"}),
            "fee",
        ),
        (
            json!({"type": "TRANSFER", "source_account_id": account_id, "destination_iban": "FR76 not an iban", "amount": eur("1.00")}),
            "destination_iban",
        ),
        // Another bank's (valid) IBAN, and an IBAN of this bank that no account has.
        (
            json!({"type": "TRANSFER", "source_account_id": account_id, "destination_iban": "FR7630006000011234567890189", "amount": eur("1.00")}),
            "destination_iban",
        ),
        (
            json!({"type": "TRANSFER", "source_account_id": account_id, "destination_iban": "FR7699999000011234567890152", "amount": eur("1.00")}),
            "destination_iban",
        ),
    ];
    for (body, field) in cases {
        let response = teller.post_once("/v1/transactions", &body).await?;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    assert_eq!(app.count("transactions").await?, 0);
    Ok(())
}

async fn transactions_are_read_by_their_owners_and_listed_by_staff(
    app: TestApp,
) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, ada_account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let (bob, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    let first = deposit(&teller, &ada_account, "10.00").await?;
    let second = deposit(&teller, &bob_account, "20.00").await?;
    let third = deposit(&teller, &ada_account, "30.00").await?;
    let path = format!("/v1/transactions/{}", id(&first));
    let read: Value = ada.get(&path).await?.json().await?;
    assert_eq!(read, first);
    assert_problem(bob.get(&path).await?, StatusCode::NOT_FOUND, "not_found").await?;
    assert_problem(
        ada.get("/v1/transactions").await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;

    let page: Value = teller.get("/v1/transactions?limit=2").await?.json().await?;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .context("items")?
        .iter()
        .map(id)
        .collect();
    assert_eq!(ids, [id(&third), id(&second)]);
    let cursor = page["next_cursor"].as_str().context("next cursor")?;
    let response = teller
        .get(&format!("/v1/transactions?limit=2&cursor={cursor}"))
        .await?;
    assert!(!response.headers().contains_key("link"), "last page");
    let rest: Value = response.json().await?;
    assert_eq!(rest["items"][0]["id"], first["id"]);
    assert_eq!(rest["next_cursor"], Value::Null);

    let filtered: Value = teller
        .get(&format!(
            "/v1/transactions?account_id={}&type=DEPOSIT",
            id(&ada_account)
        ))
        .await?
        .json()
        .await?;
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(2));
    let response = teller.get("/v1/transactions?from=yesterday").await?;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

async fn a_transaction_is_reversed_once(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let original = deposit(&teller, &account, "40.00").await?;
    let path = format!("/v1/transactions/{}/reverse", id(&original));
    let response = ada.post_once(&path, &json!({})).await?;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await?;
    // An empty body is a reversal with the default label.
    let response = teller
        .request(reqwest::Method::POST, &path)
        .header("Idempotency-Key", crate::helpers::fresh_key())
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let reversal: Value = response.json().await?;
    assert_eq!(reversal["type"], "REVERSAL");
    assert_eq!(reversal["reverses"], original["id"]);
    assert_eq!(reversal["source_account_id"], account["id"]);
    let now: Value = teller
        .get(&format!("/v1/transactions/{}", id(&original)))
        .await?
        .json()
        .await?;
    assert_eq!(now["status"], "REVERSED");
    assert_eq!(now["reversed_by"], reversal["id"]);
    assert_eq!(ada.current_balance(id(&account)).await?, "0.00");
    let again = teller
        .post_once(&path, &json!({"label": "second try"}))
        .await?;
    assert_problem(again, StatusCode::CONFLICT, "conflict").await?;
    let unknown = format!("/v1/transactions/{}/reverse", uuid::Uuid::now_v7());
    let response = teller.post_once(&unknown, &json!({})).await?;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}
