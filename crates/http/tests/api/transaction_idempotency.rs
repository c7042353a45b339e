//! `Idempotency-Key` on money-moving requests: required, replayed byte for byte, refused when
//! reused for another request, and never moving money twice under concurrency.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, answer_of, answers_of_all, assert_problem, fresh_key};
use crate::transactions::{customer_with, deposit, eur, id};

both_engines!(
    the_key_is_required_and_must_be_printable_ascii,
    a_retry_replays_the_first_response_byte_for_byte,
    a_refusal_is_replayed_too,
    a_key_reused_for_another_request_is_refused,
    concurrent_requests_with_one_key_move_money_once,
);

const CLIENTS: usize = 50;

async fn the_key_is_required_and_must_be_printable_ascii(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (_, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let body =
        json!({"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("1.00")});
    let response = teller.post("/v1/transactions", &body).await?;
    assert_problem(response, StatusCode::BAD_REQUEST, "idempotency_key_missing").await?;
    let response = teller
        .post("/v1/transactions/batch", &json!({"transactions": [body]}))
        .await?;
    assert_problem(response, StatusCode::BAD_REQUEST, "idempotency_key_missing").await?;
    let long = "k".repeat(256);
    let response = teller
        .post_with_key("/v1/transactions", &body, &long)
        .await?;
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_request").await?;
    assert_eq!(app.count("transactions").await?, 0);
    Ok(())
}

async fn a_retry_replays_the_first_response_byte_for_byte(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let key = fresh_key();
    let body =
        json!({"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("25.00")});
    let first = answer_of(
        teller
            .post_with_key("/v1/transactions", &body, &key)
            .await?,
    )
    .await?;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(!first.replayed);
    // Same request, other key order and spacing: the same fingerprint.
    let reordered =
        json!({"amount": eur("25.00"), "destination_account_id": id(&account), "type": "DEPOSIT"});
    let response = teller
        .post_with_key("/v1/transactions", &reordered, &key)
        .await?;
    assert_eq!(response.headers()["content-type"], "application/json");
    let location = response.headers()["location"].to_str()?.to_owned();
    let replay = answer_of(response).await?;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert!(replay.replayed);
    assert_eq!(replay.body, first.body);
    let transaction: Value = serde_json::from_slice(&first.body)?;
    assert_eq!(location, format!("/v1/transactions/{}", id(&transaction)));
    assert_eq!(ada.current_balance(id(&account)).await?, "25.00");
    assert_eq!(app.count("transactions").await?, 1);
    Ok(())
}

async fn a_refusal_is_replayed_too(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let key = fresh_key();
    let body =
        json!({"type": "WITHDRAWAL", "source_account_id": id(&account), "amount": eur("5.00")});
    let first = ada.post_with_key("/v1/transactions", &body, &key).await?;
    assert_problem(
        first,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_funds",
    )
    .await?;
    deposit(&teller, &account, "50.00").await?;
    let retry = ada.post_with_key("/v1/transactions", &body, &key).await?;
    assert_eq!(retry.headers()["idempotency-replayed"], "true");
    assert_problem(
        retry,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_funds",
    )
    .await?;
    assert_eq!(ada.current_balance(id(&account)).await?, "50.00");
    Ok(())
}

async fn a_key_reused_for_another_request_is_refused(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let key = fresh_key();
    let body = |amount: &str| json!({"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur(amount)});
    let first = teller
        .post_with_key("/v1/transactions", &body("10.00"), &key)
        .await?;
    assert_eq!(first.status(), StatusCode::CREATED);
    let other = teller
        .post_with_key("/v1/transactions", &body("11.00"), &key)
        .await?;
    assert_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await?;
    let batch = json!({"transactions": [body("10.00")]});
    let other_path = teller
        .post_with_key("/v1/transactions/batch", &batch, &key)
        .await?;
    assert_problem(
        other_path,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await?;
    // Keys are per client: Ada may use the same key for her own request.
    let own =
        json!({"type": "WITHDRAWAL", "source_account_id": id(&account), "amount": eur("1.00")});
    let response = ada.post_with_key("/v1/transactions", &own, &key).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(ada.current_balance(id(&account)).await?, "9.00");
    Ok(())
}

async fn concurrent_requests_with_one_key_move_money_once(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let (_, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    deposit(&teller, &account, "100.00").await?;
    let key = fresh_key();
    let body = json!({"type": "TRANSFER", "source_account_id": id(&account),
        "destination_account_id": id(&bob_account), "amount": eur("10.00")});
    let attempts = (0..CLIENTS).map(|_| ada.post_with_key("/v1/transactions", &body, &key));
    let answers = answers_of_all(attempts).await?;
    let last = answer_of(ada.post_with_key("/v1/transactions", &body, &key).await?).await?;
    assert_eq!(last.status, StatusCode::CREATED);
    let mut fresh = 0;
    for answer in &answers {
        if answer.status == StatusCode::CONFLICT {
            let problem: Value = serde_json::from_slice(&answer.body)?;
            assert_eq!(problem["code"], "idempotency_key_in_flight");
        } else {
            assert_eq!(answer.status, StatusCode::CREATED);
            assert_eq!(
                answer.body, last.body,
                "every success is the first response"
            );
            fresh += usize::from(!answer.replayed);
        }
    }
    assert_eq!(fresh, 1, "exactly one request ran");
    assert_eq!(ada.current_balance(id(&account)).await?, "90.00");
    assert_eq!(app.count("transactions").await?, 2);
    Ok(())
}
