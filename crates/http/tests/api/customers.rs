//! `/v1/customers`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{
    AUDITOR, CUSTOMER_PASSWORD, STAFF_PASSWORD, TestApp, assert_problem, sign_up_body,
};

both_engines!(
    sign_up_creates_a_pending_customer_with_location_and_etag,
    an_email_signs_up_only_once_whatever_its_case,
    a_customer_reads_themself_and_gets_404_for_anyone_else,
    only_staff_list_customers_and_filters_apply,
    a_verified_kyc_activates_pending_accounts,
    a_kyc_decision_is_final_and_teller_only,
    a_logged_in_customer_cannot_sign_someone_else_up,
    a_teller_signs_a_customer_up_at_the_desk,
    a_rejected_kyc_closes_the_pending_accounts,
    staff_only_operations_refuse_customers_before_checking_their_input,
);

async fn sign_up_creates_a_pending_customer_with_location_and_etag(
    app: TestApp,
) -> anyhow::Result<()> {
    let response = app
        .anonymous()
        .post("/v1/customers", &sign_up_body("Ada@Example.org"))
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str()?.to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let body: Value = response.json().await?;
    assert_eq!(
        location,
        format!("/v1/customers/{}", body["id"].as_str().unwrap_or_default())
    );
    assert_eq!(body["kyc_status"], "PENDING");
    assert_eq!(body["email"], "ada@example.org");
    assert_eq!(body["address"]["city"], "Paris");
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    assert_eq!(
        uuid::Uuid::parse_str(body["id"].as_str().unwrap_or_default())?.get_version_num(),
        7
    );
    // The customer logs in with the e-mail address as the username.
    app.login("ada@example.org", CUSTOMER_PASSWORD).await?;
    Ok(())
}

async fn an_email_signs_up_only_once_whatever_its_case(app: TestApp) -> anyhow::Result<()> {
    app.sign_up("ada@example.org").await?;
    let response = app
        .anonymous()
        .post("/v1/customers", &sign_up_body("ADA@example.org"))
        .await?;
    assert_problem(response, StatusCode::CONFLICT, "conflict").await?;
    assert_eq!(app.count("customers").await?, 1);
    Ok(())
}

async fn a_customer_reads_themself_and_gets_404_for_anyone_else(
    app: TestApp,
) -> anyhow::Result<()> {
    let (ada, ada_client) = app.verified_customer("ada@example.org").await?;
    let (bob, _) = app.verified_customer("bob@example.org").await?;
    let me: Value = ada_client.get("/v1/customers/me").await?.json().await?;
    assert_eq!(me["id"], ada["id"]);
    let own = ada_client
        .get(&format!(
            "/v1/customers/{}",
            ada["id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!(own.status(), StatusCode::OK);
    let other = ada_client
        .get(&format!(
            "/v1/customers/{}",
            bob["id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_problem(other, StatusCode::NOT_FOUND, "not_found").await?;
    let teller = app.teller().await?;
    let staff_me = teller.get("/v1/customers/me").await?;
    assert_problem(staff_me, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

async fn only_staff_list_customers_and_filters_apply(app: TestApp) -> anyhow::Result<()> {
    let (_, ada_client) = app.verified_customer("ada@example.org").await?;
    app.sign_up("bob@example.org").await?;
    app.sign_up("carol@example.org").await?;
    assert_problem(
        ada_client.get("/v1/customers").await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;

    let auditor = app.login(AUDITOR, STAFF_PASSWORD).await?;
    let pending: Value = auditor
        .get("/v1/customers?kyc_status=PENDING")
        .await?
        .json()
        .await?;
    assert_eq!(pending["total"], 2);
    let found: Value = auditor.get("/v1/customers?q=CAROL").await?.json().await?;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["email"], "carol@example.org");

    let first = auditor.get("/v1/customers?limit=2").await?;
    let link = first.headers()["link"].to_str()?.to_owned();
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    let first: Value = first.json().await?;
    assert_eq!(
        (
            first["page"].as_u64(),
            first["limit"].as_u64(),
            first["total"].as_u64()
        ),
        (Some(1), Some(2), Some(3))
    );
    // Newest first.
    assert_eq!(first["items"][0]["email"], "carol@example.org");
    let second: Value = auditor
        .get("/v1/customers?limit=2&page=2")
        .await?
        .json()
        .await?;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["items"][0]["email"], "ada@example.org");

    let bad = auditor.get("/v1/customers?limit=101").await?;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let unknown = auditor.get("/v1/customers?sort=name").await?;
    assert_problem(
        unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

async fn a_verified_kyc_activates_pending_accounts(app: TestApp) -> anyhow::Result<()> {
    let customer = app.sign_up("ada@example.org").await?;
    let client = app.login("ada@example.org", CUSTOMER_PASSWORD).await?;
    let account = client.open_account(&json!({"type": "COURANT"})).await?;
    assert_eq!(account["status"], "PENDING_KYC");
    let teller = app.teller().await?;
    let id = customer["id"].as_str().unwrap_or_default();
    let decided = teller
        .post(
            &format!("/v1/customers/{id}/kyc"),
            &json!({"decision": "VERIFIED", "reason": "passport checked"}),
        )
        .await?;
    assert_eq!(decided.status(), StatusCode::OK);
    assert_eq!(decided.headers()["etag"], "\"2\"");
    let decided: Value = decided.json().await?;
    assert_eq!(decided["kyc_status"], "VERIFIED");
    assert_eq!(decided["kyc_reason"], "passport checked");
    let account: Value = client
        .get(&format!(
            "/v1/accounts/{}",
            account["id"].as_str().unwrap_or_default()
        ))
        .await?
        .json()
        .await?;
    assert_eq!(account["status"], "ACTIVE");
    Ok(())
}

async fn a_kyc_decision_is_final_and_teller_only(app: TestApp) -> anyhow::Result<()> {
    let (customer, client) = app.verified_customer("ada@example.org").await?;
    let path = format!(
        "/v1/customers/{}/kyc",
        customer["id"].as_str().unwrap_or_default()
    );
    let again = app
        .teller()
        .await?
        .post(&path, &json!({"decision": "REJECTED"}))
        .await?;
    assert_problem(again, StatusCode::CONFLICT, "conflict").await?;
    let by_customer = client.post(&path, &json!({"decision": "VERIFIED"})).await?;
    assert_problem(by_customer, StatusCode::FORBIDDEN, "forbidden").await?;
    let auditor = app.login(AUDITOR, STAFF_PASSWORD).await?;
    assert_problem(
        auditor
            .post(&path, &json!({"decision": "VERIFIED"}))
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let missing = format!("/v1/customers/{}/kyc", uuid::Uuid::now_v7());
    let teller = app.teller().await?;
    assert_problem(
        teller
            .post(&missing, &json!({"decision": "VERIFIED"}))
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let bad = teller.post(&path, &json!({"decision": "MAYBE"})).await?;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    Ok(())
}

async fn a_logged_in_customer_cannot_sign_someone_else_up(app: TestApp) -> anyhow::Result<()> {
    let (_, client) = app.verified_customer("ada@example.org").await?;
    let response = client
        .post("/v1/customers", &sign_up_body("bob@example.org"))
        .await?;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await?;
    assert_eq!(app.count("customers").await?, 1);
    Ok(())
}

async fn a_teller_signs_a_customer_up_at_the_desk(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let response = teller
        .post("/v1/customers", &sign_up_body("bob@example.org"))
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    Ok(())
}

async fn a_rejected_kyc_closes_the_pending_accounts(app: TestApp) -> anyhow::Result<()> {
    let customer = app.sign_up("ada@example.org").await?;
    let client = app.login("ada@example.org", CUSTOMER_PASSWORD).await?;
    let account = client.open_account(&json!({"type": "COURANT"})).await?;
    let id = customer["id"].as_str().unwrap_or_default();
    let teller = app.teller().await?;
    let rejected = teller
        .post(
            &format!("/v1/customers/{id}/kyc"),
            &json!({"decision": "REJECTED", "reason": "forged document"}),
        )
        .await?;
    assert_eq!(rejected.status(), StatusCode::OK);
    let account: Value = client
        .get(&format!(
            "/v1/accounts/{}",
            account["id"].as_str().unwrap_or_default()
        ))
        .await?
        .json()
        .await?;
    assert_eq!(account["status"], "CLOSED");
    assert_eq!(account["status_reason"], "KYC rejected");
    assert!(account["closed_at"].is_string());
    Ok(())
}

async fn staff_only_operations_refuse_customers_before_checking_their_input(
    app: TestApp,
) -> anyhow::Result<()> {
    let (customer, client) = app.verified_customer("ada@example.org").await?;
    let list = client.get("/v1/customers?limit=1000&q=x").await?;
    assert_problem(list, StatusCode::FORBIDDEN, "forbidden").await?;
    let path = format!(
        "/v1/customers/{}/kyc",
        customer["id"].as_str().unwrap_or_default()
    );
    let kyc = client
        .post(
            &path,
            &json!({"decision": "VERIFIED", "reason": "x".repeat(600)}),
        )
        .await?;
    assert_problem(kyc, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}
