//! Step-up on every door money leaves a customer's account by: a withdrawal, a hold's capture
//! and each item of a batch need the same recent one-time code as a large transfer
//! (`mfa.rs` covers transfers and access tokens).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines_with_clock;
use crate::helpers::{CUSTOMER_PASSWORD, ManualClock, TestApp, UserClient, assert_problem};
use crate::mfa::{code_at, enrol};
use crate::transactions::{customer_with, deposit, eur, id};

both_engines_with_clock!(withdrawals_captures_and_batch_items_above_the_threshold_need_step_up,);

fn withdrawal(account: &Value, amount: &str) -> Value {
    json!({"type": "WITHDRAWAL", "source_account_id": id(account), "amount": eur(amount)})
}

async fn place_hold(client: &UserClient, account: &Value, amount: &str) -> anyhow::Result<String> {
    let path = format!("/v1/accounts/{}/holds", id(account));
    let response = client
        .post_once(&path, &json!({"amount": eur(amount)}))
        .await?;
    anyhow::ensure!(response.status() == StatusCode::CREATED, "hold refused");
    let hold: Value = response.json().await?;
    Ok(id(&hold).to_owned())
}

async fn capture(client: &UserClient, hold: &str) -> anyhow::Result<reqwest::Response> {
    client
        .post_once(&format!("/v1/holds/{hold}/capture"), &json!({}))
        .await
}

async fn withdrawals_captures_and_batch_items_above_the_threshold_need_step_up(
    app: TestApp,
    clock: ManualClock,
) -> anyhow::Result<()> {
    let email = "ada@example.org";
    let (client, account) = customer_with(&app, email, "COURANT").await?;
    deposit(&app.teller().await?, &account, "5000.00").await?;

    // A password login: up to the threshold every door is open, above it none is.
    let at_threshold = client
        .post_once("/v1/transactions", &withdrawal(&account, "1000.00"))
        .await?;
    assert_eq!(at_threshold.status(), StatusCode::CREATED);
    let above = client
        .post_once("/v1/transactions", &withdrawal(&account, "1500.00"))
        .await?;
    assert_problem(above, StatusCode::UNAUTHORIZED, "mfa_required").await?;

    // Placing a hold moves nothing; capturing it is what takes the money out.
    let hold = place_hold(&client, &account, "1500.00").await?;
    let refused = capture(&client, &hold).await?;
    assert_problem(refused, StatusCode::UNAUTHORIZED, "mfa_required").await?;

    let batch = json!({"transactions": [
        withdrawal(&account, "1500.00"),
        withdrawal(&account, "10.00"),
    ]});
    let result: Value = client
        .post_once("/v1/transactions/batch", &batch)
        .await?
        .json()
        .await?;
    assert_eq!(result["results"][0]["status"], "REFUSED");
    assert_eq!(result["results"][0]["error"]["code"], "mfa_required");
    assert_eq!(result["results"][1]["status"], "COMMITTED");
    assert_eq!(client.current_balance(id(&account)).await?, "3990.00");

    // With a one-time code given at login, the same requests go through.
    let at = clock.now_unix();
    let enrolled = enrol(&client, at).await?;
    let fresh = app
        .login_with_code(email, CUSTOMER_PASSWORD, &code_at(&enrolled.secret, at)?)
        .await?;
    let allowed = fresh
        .post_once("/v1/transactions", &withdrawal(&account, "1500.00"))
        .await?;
    assert_eq!(allowed.status(), StatusCode::CREATED);
    assert_eq!(capture(&fresh, &hold).await?.status(), StatusCode::CREATED);
    assert_eq!(client.current_balance(id(&account)).await?, "990.00");
    Ok(())
}
