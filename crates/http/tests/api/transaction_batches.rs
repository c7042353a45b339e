//! `POST /v1/transactions/batch`: one result per transaction, all-or-nothing on request.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, answer_of, assert_problem, fresh_key};
use crate::transactions::{customer_with, deposit, eur, id};

both_engines!(
    a_batch_reports_each_transaction_and_keeps_the_accepted_ones,
    an_atomic_batch_with_a_refusal_writes_nothing,
    an_atomic_batch_without_refusal_commits_everything,
    a_batch_is_validated_as_a_whole_and_replayed,
    a_batch_holds_up_to_a_thousand_transactions,
    items_refused_before_the_ledger_do_not_shift_the_others_results,
);

fn statuses(response: &Value) -> Vec<&str> {
    response["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["status"].as_str().unwrap_or_default())
        .collect()
}

async fn a_batch_reports_each_transaction_and_keeps_the_accepted_ones(
    app: TestApp,
) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let (_, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    let body = json!({"transactions": [
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("30.00")},
        {"type": "WITHDRAWAL", "source_account_id": id(&account), "amount": eur("50.00")},
        {"type": "TRANSFER", "source_account_id": id(&account), "destination_account_id": id(&bob_account), "amount": eur("10.00")},
        {"type": "DEPOSIT", "destination_account_id": uuid::Uuid::now_v7(), "amount": eur("1.00")},
    ]});
    let response = teller.post_once("/v1/transactions/batch", &body).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let result: Value = response.json().await?;
    assert_eq!(result["atomic"], false);
    assert_eq!(result["committed"], true);
    assert_eq!(
        statuses(&result),
        ["COMMITTED", "REFUSED", "COMMITTED", "REFUSED"]
    );
    assert_eq!(result["results"][0]["index"], 0);
    assert_eq!(result["results"][0]["transaction"]["amount"], eur("30.00"));
    assert_eq!(result["results"][1]["error"]["code"], "insufficient_funds");
    assert_eq!(result["results"][1]["error"]["status"], 422);
    assert_eq!(result["results"][3]["error"]["code"], "not_found");
    assert_eq!(ada.current_balance(id(&account)).await?, "20.00");
    assert_eq!(app.count("transactions").await?, 2);
    Ok(())
}

async fn an_atomic_batch_with_a_refusal_writes_nothing(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    deposit(&teller, &account, "10.00").await?;
    let (events, transactions) = (app.count("events").await?, app.count("transactions").await?);
    let body = json!({"atomic": true, "transactions": [
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("30.00")},
        {"type": "WITHDRAWAL", "source_account_id": id(&account), "amount": eur("100.00")},
    ]});
    let response = teller.post_once("/v1/transactions/batch", &body).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let result: Value = response.json().await?;
    assert_eq!(
        (result["atomic"].clone(), result["committed"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(statuses(&result), ["ROLLED_BACK", "REFUSED"]);
    assert_eq!(result["results"][1]["error"]["code"], "insufficient_funds");
    // A refusal found before the engine (a customer's deposit) also stops everything.
    let mixed = json!({"atomic": true, "transactions": [
        {"type": "WITHDRAWAL", "source_account_id": id(&account), "amount": eur("1.00")},
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("1.00")},
    ]});
    let result: Value = ada
        .post_once("/v1/transactions/batch", &mixed)
        .await?
        .json()
        .await?;
    assert_eq!(result["committed"], false);
    assert_eq!(statuses(&result), ["ROLLED_BACK", "REFUSED"]);
    assert_eq!(result["results"][1]["error"]["code"], "forbidden");
    assert_eq!(ada.current_balance(id(&account)).await?, "10.00");
    assert_eq!(app.count("transactions").await?, transactions);
    assert_eq!(app.count("events").await?, events);
    Ok(())
}

async fn an_atomic_batch_without_refusal_commits_everything(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let (_, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    let body = json!({"atomic": true, "transactions": [
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("30.00")},
        {"type": "TRANSFER", "source_account_id": id(&account), "destination_iban": bob_account["iban"], "amount": eur("30.00")},
    ]});
    let result: Value = teller
        .post_once("/v1/transactions/batch", &body)
        .await?
        .json()
        .await?;
    assert_eq!(result["committed"], true);
    assert_eq!(statuses(&result), ["COMMITTED", "COMMITTED"]);
    assert_eq!(ada.current_balance(id(&account)).await?, "0.00");
    assert_eq!(teller.current_balance(id(&bob_account)).await?, "30.00");
    Ok(())
}

async fn a_batch_is_validated_as_a_whole_and_replayed(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (_, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let empty = teller
        .post_once("/v1/transactions/batch", &json!({"transactions": []}))
        .await?;
    let problem =
        assert_problem(empty, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    assert_eq!(problem["errors"][0]["field"], "transactions");
    let invalid = json!({"transactions": [
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("1.00")},
        {"type": "DEPOSIT", "amount": eur("1.00")},
    ]});
    let response = teller.post_once("/v1/transactions/batch", &invalid).await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(
        problem["errors"][0]["field"],
        "transactions[1].destination_account_id"
    );
    assert_eq!(app.count("transactions").await?, 0);

    let key = fresh_key();
    let body = json!({"transactions": [
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("1.00")},
    ]});
    let first = answer_of(
        teller
            .post_with_key("/v1/transactions/batch", &body, &key)
            .await?,
    )
    .await?;
    let again = answer_of(
        teller
            .post_with_key("/v1/transactions/batch", &body, &key)
            .await?,
    )
    .await?;
    assert_eq!(
        (first.status, again.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert!(again.replayed && !first.replayed);
    assert_eq!(again.body, first.body);
    assert_eq!(app.count("transactions").await?, 1);
    Ok(())
}

async fn a_batch_holds_up_to_a_thousand_transactions(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let item =
        json!({"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("0.01")});
    let body = |count: usize| json!({"transactions": vec![item.clone(); count]});
    let response = teller
        .post_once("/v1/transactions/batch", &body(1001))
        .await?;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let response = teller
        .post_once("/v1/transactions/batch", &body(1000))
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let result: Value = response.json().await?;
    assert_eq!(result["committed"], true);
    assert_eq!(ada.current_balance(id(&account)).await?, "10.00");
    assert_eq!(app.count("transactions").await?, 1000);
    Ok(())
}

/// The probe's two batches: an item refused before the ledger ran (a foreign IBAN, a customer's
/// deposit) used to take the next item's result, so a refused transfer was reported booked and
/// a booked deposit refused, and the replay repeated it.
async fn items_refused_before_the_ledger_do_not_shift_the_others_results(
    app: TestApp,
) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let (_, bob_account) = customer_with(&app, "bob@example.org", "COURANT").await?;
    let body = json!({"transactions": [
        {"type": "TRANSFER", "source_account_id": id(&account), "destination_iban": "DE89370400440532013000", "amount": eur("1.00")},
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("1.11")},
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("2.22")},
    ]});
    let key = fresh_key();
    let first = teller
        .post_with_key("/v1/transactions/batch", &body, &key)
        .await?;
    let result: Value = first.json().await?;
    assert_eq!(statuses(&result), ["REFUSED", "COMMITTED", "COMMITTED"]);
    assert_eq!(result["results"][0]["error"]["code"], "validation_failed");
    assert_eq!(result["results"][1]["transaction"]["amount"], eur("1.11"));
    assert_eq!(result["results"][2]["transaction"]["amount"], eur("2.22"));
    assert_eq!(ada.current_balance(id(&account)).await?, "3.33");
    let replayed: Value = teller
        .post_with_key("/v1/transactions/batch", &body, &key)
        .await?
        .json()
        .await?;
    assert_eq!(replayed, result);

    let customers = json!({"transactions": [
        {"type": "DEPOSIT", "destination_account_id": id(&account), "amount": eur("5.00")},
        {"type": "TRANSFER", "source_account_id": id(&account), "destination_account_id": id(&bob_account), "amount": eur("900.00")},
        {"type": "TRANSFER", "source_account_id": id(&account), "destination_account_id": id(&bob_account), "amount": eur("0.05")},
    ]});
    let result: Value = ada
        .post_once("/v1/transactions/batch", &customers)
        .await?
        .json()
        .await?;
    assert_eq!(statuses(&result), ["REFUSED", "REFUSED", "COMMITTED"]);
    assert_eq!(result["results"][0]["error"]["code"], "forbidden");
    assert_eq!(result["results"][1]["error"]["code"], "insufficient_funds");
    assert_eq!(result["results"][2]["transaction"]["amount"], eur("0.05"));
    assert_eq!(ada.current_balance(id(&account)).await?, "3.28");
    assert_eq!(teller.current_balance(id(&bob_account)).await?, "0.05");
    Ok(())
}
