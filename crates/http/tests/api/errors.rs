//! The acceptance list of bad requests: each gets the right status and code, and the database
//! does not change.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, assert_problem, sign_up_body};

both_engines!(
    malformed_json_is_400_and_creates_nothing,
    wrong_content_type_is_415_and_creates_nothing,
    unknown_field_is_422_naming_it_and_creates_nothing,
    missing_field_is_422_naming_it_and_creates_nothing,
    bad_email_is_422_and_creates_nothing,
    too_short_password_is_422_and_creates_nothing,
    guessable_or_personal_passwords_are_422_saying_the_rule_and_create_nothing,
    bad_currency_is_422_and_opens_nothing,
    unknown_account_type_is_422_and_opens_nothing,
    oversize_body_is_413_and_creates_nothing,
    a_json_number_amount_is_422,
    unknown_route_and_wrong_method_are_problems,
    request_ids_are_echoed_or_generated,
    text_with_a_nul_byte_is_refused_before_the_database,
);

async fn malformed_json_is_400_and_creates_nothing(app: TestApp) -> anyhow::Result<()> {
    let response = app
        .anonymous()
        .request(Method::POST, "/v1/customers")
        .header("content-type", "application/json")
        .body(r#"{"first_name": "Ada", "#)
        .send()
        .await?;
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_request").await?;
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}

async fn wrong_content_type_is_415_and_creates_nothing(app: TestApp) -> anyhow::Result<()> {
    let response = app
        .anonymous()
        .request(Method::POST, "/v1/customers")
        .header("content-type", "text/plain")
        .body(sign_up_body("ada@example.org").to_string())
        .send()
        .await?;
    assert_problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}

async fn unknown_field_is_422_naming_it_and_creates_nothing(app: TestApp) -> anyhow::Result<()> {
    let mut body = sign_up_body("ada@example.org");
    body["kyc_status"] = json!("VERIFIED");
    let response = app.anonymous().post("/v1/customers", &body).await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "kyc_status");
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}

async fn missing_field_is_422_naming_it_and_creates_nothing(app: TestApp) -> anyhow::Result<()> {
    let mut body = sign_up_body("ada@example.org");
    body["address"].as_object_mut().map(|a| a.remove("city"));
    let response = app.anonymous().post("/v1/customers", &body).await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "address.city");
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}

async fn bad_email_is_422_and_creates_nothing(app: TestApp) -> anyhow::Result<()> {
    let users = app.count("users").await?;
    let response = app
        .anonymous()
        .post("/v1/customers", &sign_up_body("not-an-email"))
        .await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "email");
    assert_eq!(app.count("customers").await?, 0);
    assert_eq!(app.count("users").await?, users, "no user was created");
    Ok(())
}

async fn too_short_password_is_422_and_creates_nothing(app: TestApp) -> anyhow::Result<()> {
    let mut body = sign_up_body("ada@example.org");
    body["password"] = json!("elevenchars");
    let response = app.anonymous().post("/v1/customers", &body).await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "password");
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}

async fn guessable_or_personal_passwords_are_422_saying_the_rule_and_create_nothing(
    app: TestApp,
) -> anyhow::Result<()> {
    for (password, rule) in [
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("            ", "too easy to guess"),
        ("password1234", "too easy to guess"),
        ("Lovelace rocks 1815", "must not contain your name"),
        ("mail ada@example.org", "must not contain your name"),
    ] {
        let mut body = sign_up_body("ada@example.org");
        body["password"] = json!(password);
        let response = app.anonymous().post("/v1/customers", &body).await?;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert_eq!(problem["errors"][0]["field"], "password", "{password:?}");
        let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(rule), "{password:?}: {problem}");
        assert!(!problem.to_string().contains(password), "{problem}");
    }
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}

async fn bad_currency_is_422_and_opens_nothing(app: TestApp) -> anyhow::Result<()> {
    let (_, customer) = app.verified_customer("ada@example.org").await?;
    let response = customer
        .post(
            "/v1/accounts",
            &json!({"type": "COURANT", "currency": "XYZ"}),
        )
        .await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "currency");
    assert_eq!(app.count("accounts").await?, 0);
    Ok(())
}

async fn unknown_account_type_is_422_and_opens_nothing(app: TestApp) -> anyhow::Result<()> {
    let (_, customer) = app.verified_customer("ada@example.org").await?;
    let response = customer
        .post("/v1/accounts", &json!({"type": "CHECKING"}))
        .await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "type");
    assert_eq!(app.count("accounts").await?, 0);
    Ok(())
}

async fn oversize_body_is_413_and_creates_nothing(app: TestApp) -> anyhow::Result<()> {
    let mut body = sign_up_body("ada@example.org");
    body["first_name"] = Value::String("A".repeat(20 * 1024));
    let response = app.anonymous().post("/v1/customers", &body).await?;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}

async fn a_json_number_amount_is_422(app: TestApp) -> anyhow::Result<()> {
    let (_, customer) = app.verified_customer("ada@example.org").await?;
    let account = customer.open_account(&json!({"type": "COURANT"})).await?;
    let teller = app.teller().await?;
    let path = format!(
        "/v1/accounts/{}",
        account["id"].as_str().unwrap_or_default()
    );
    let response = teller
        .patch(
            &path,
            &json!({"overdraft_limit": {"amount": 100.5, "currency": "EUR"}}),
            None,
        )
        .await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "overdraft_limit.amount");
    let response = teller
        .patch(
            &path,
            &json!({"overdraft_limit": {"amount": "100.005", "currency": "EUR"}}),
            None,
        )
        .await?;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let unchanged: Value = customer.get(&path).await?.json().await?;
    assert_eq!(unchanged["overdraft_limit"]["amount"], "0.00");
    Ok(())
}

async fn unknown_route_and_wrong_method_are_problems(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    assert_problem(
        client.get("/v1/nothing-here").await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let response = client
        .request(Method::PATCH, "/v1/customers")
        .send()
        .await?;
    assert!(response.headers().contains_key("allow"));
    assert_problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await?;
    Ok(())
}

async fn request_ids_are_echoed_or_generated(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    let echoed = client
        .request(Method::GET, "/health/live")
        .header("x-request-id", "abc-123")
        .send()
        .await?;
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let unsafe_id = client
        .request(Method::GET, "/health/live")
        .header("x-request-id", "a b <script>")
        .send()
        .await?;
    let generated = unsafe_id.headers()["x-request-id"].to_str()?.to_owned();
    assert_ne!(generated, "a b <script>");
    assert_eq!(uuid::Uuid::parse_str(&generated)?.get_version_num(), 7);
    Ok(())
}

/// PostgreSQL text cannot hold a NUL byte: such input must be refused as invalid, never reach
/// the database as a 500 (schemathesis found the login case).
async fn text_with_a_nul_byte_is_refused_before_the_database(app: TestApp) -> anyhow::Result<()> {
    let client = app.anonymous();
    let login = client
        .post(
            "/auth/login",
            &json!({"username": "tel\u{0}ler", "password": "whatever whatever"}),
        )
        .await?;
    assert_problem(login, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    let mut body = sign_up_body("ada@example.org");
    body["first_name"] = json!("A\u{0}da");
    let sign_up = client.post("/v1/customers", &body).await?;
    assert_problem(
        sign_up,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let teller = app.teller().await?;
    let search = teller.get("/v1/customers?q=a%00b").await?;
    let problem = assert_problem(
        search,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "q");
    assert_eq!(app.count("customers").await?, 0);
    Ok(())
}
