//! Two-factor authentication: TOTP enrolment, logins with a one-time code, recovery codes,
//! throttling, the password grant, and step-up on large transfers.

use anyhow::Context as _;
use coffre_domain::mfa::TotpSecret;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    CUSTOMER_PASSWORD, ManualClock, TestApp, UserClient, assert_problem, fresh_key,
};
use crate::oauth_support::{assert_oauth_error, field, jwt_parts};
use crate::transactions::{customer_with, deposit, eur, id};
use crate::{both_engines, both_engines_with_clock};

both_engines!(
    enrolment_hands_out_a_secret_a_qr_code_and_ten_recovery_codes,
    a_user_with_totp_needs_a_fresh_code_to_log_in,
    recovery_codes_work_once_each,
    wrong_codes_are_throttled,
    access_tokens_cannot_manage_the_second_factor,
    the_password_grant_needs_the_code_and_its_tokens_say_otp,
);

both_engines_with_clock!(
    a_large_transfer_needs_a_login_with_a_code_within_five_minutes,
    a_large_transfer_with_an_access_token_needs_an_otp_grant,
);

/// The TOTP code of `secret` (base32) at `unix_time`.
pub(crate) fn code_at(secret: &str, unix_time: i64) -> anyhow::Result<String> {
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret)
        .context("secret is not base32")?;
    Ok(TotpSecret::from_bytes(bytes)?.code_at(u64::try_from(unix_time)?)?)
}

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A TOTP user: their secret and recovery codes. The enrolment is confirmed with the code of
/// the step before `at`, so that the code of `at`'s own step is still unused.
pub(crate) struct Enrolled {
    pub(crate) secret: String,
    pub(crate) recovery_codes: Vec<String>,
}

pub(crate) async fn enrol(client: &UserClient, at: i64) -> anyhow::Result<Enrolled> {
    let response = client.post("/v1/me/mfa/totp", &json!({})).await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "enrolment: {}",
        response.status()
    );
    let body: Value = response.json().await?;
    let secret = field(&body, "secret")?.to_owned();
    let response = client
        .post(
            "/v1/me/mfa/totp/confirm",
            &json!({"code": code_at(&secret, at - 30)?}),
        )
        .await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "confirmation: {}",
        response.status()
    );
    let body: Value = response.json().await?;
    let recovery_codes = body["recovery_codes"]
        .as_array()
        .context("recovery codes")?
        .iter()
        .filter_map(|code| code.as_str().map(str::to_owned))
        .collect();
    Ok(Enrolled {
        secret,
        recovery_codes,
    })
}

async fn login_with(
    app: &TestApp,
    email: &str,
    totp_code: Option<&str>,
) -> anyhow::Result<reqwest::Response> {
    let mut body = json!({"username": email, "password": CUSTOMER_PASSWORD});
    if let Some(code) = totp_code {
        body["totp_code"] = json!(code);
    }
    app.anonymous().post("/auth/login", &body).await
}

async fn enrolment_hands_out_a_secret_a_qr_code_and_ten_recovery_codes(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, client) = app.verified_customer("ada@example.org").await?;
    let response = client.post("/v1/me/mfa/totp", &json!({})).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = response.json().await?;
    let secret = field(&body, "secret")?;
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = field(&body, "otpauth_uri")?;
    assert!(
        uri.starts_with("otpauth://totp/Coffre:ada%40example.org?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(field(&body, "qr_svg")?.contains("<svg"));

    // A wrong first code does not enable anything.
    let wrong = client
        .post("/v1/me/mfa/totp/confirm", &json!({"code": "000000"}))
        .await?;
    let problem =
        assert_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    assert_eq!(problem["errors"][0]["field"], "code");
    assert_eq!(
        login_with(&app, "ada@example.org", None).await?.status(),
        StatusCode::OK
    );

    let response = client
        .post(
            "/v1/me/mfa/totp/confirm",
            &json!({"code": code_at(secret, now())?}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await?;
    assert_eq!(body["enabled"], true);
    let codes: std::collections::BTreeSet<&str> = body["recovery_codes"]
        .as_array()
        .context("recovery codes")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(codes.len(), 10, "ten distinct codes: {body}");
    assert!(codes.iter().all(|code| code.len() == 19));

    // Enabled: a second enrolment (which would replace the factor) is refused.
    let again = client.post("/v1/me/mfa/totp", &json!({})).await?;
    assert_problem(again, StatusCode::CONFLICT, "conflict").await?;
    // The secret is stored sealed: version, 24-byte nonce, the 20 bytes encrypted, 16-byte tag.
    assert_eq!(app.count("user_totp WHERE length(secret) = 61").await?, 1);
    Ok(())
}

async fn a_user_with_totp_needs_a_fresh_code_to_log_in(app: TestApp) -> anyhow::Result<()> {
    let email = "grace@example.org";
    let (_, client) = app.verified_customer(email).await?;
    let now = now();
    let enrolled = enrol(&client, now).await?;

    let without = login_with(&app, email, None).await?;
    assert!(
        without
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("totp_code")),
    );
    assert_problem(without, StatusCode::UNAUTHORIZED, "mfa_required").await?;
    // The password alone opened no session.
    let sessions = app.count("sessions").await?;

    let wrong = login_with(&app, email, Some("123456")).await?;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "mfa_required").await?;

    let code = code_at(&enrolled.secret, now)?;
    let with_code = login_with(&app, email, Some(&code)).await?;
    assert_eq!(with_code.status(), StatusCode::OK);
    assert_eq!(app.count("sessions").await?, sessions + 1);

    // The same code again, even with the right password: refused.
    let replayed = login_with(&app, email, Some(&code)).await?;
    assert_problem(replayed, StatusCode::UNAUTHORIZED, "mfa_required").await?;
    // As is the code of the step the enrolment used.
    let older = login_with(&app, email, Some(&code_at(&enrolled.secret, now - 30)?)).await?;
    assert_problem(older, StatusCode::UNAUTHORIZED, "mfa_required").await?;
    // A wrong password is still `unauthenticated`, code or not: nothing says the code was right.
    let wrong_password = app
        .anonymous()
        .post(
            "/auth/login",
            &json!({"username": email, "password": "not the password 1234", "totp_code": code_at(&enrolled.secret, now + 30)?}),
        )
        .await?;
    assert_problem(wrong_password, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    // The next step's code still works.
    let next = login_with(&app, email, Some(&code_at(&enrolled.secret, now + 30)?)).await?;
    assert_eq!(next.status(), StatusCode::OK);
    Ok(())
}

async fn recovery_codes_work_once_each(app: TestApp) -> anyhow::Result<()> {
    let email = "katherine@example.org";
    let (_, client) = app.verified_customer(email).await?;
    let enrolled = enrol(&client, now()).await?;
    let first = enrolled.recovery_codes.first().context("a recovery code")?;
    let second = enrolled.recovery_codes.get(1).context("a second one")?;

    assert_eq!(
        login_with(&app, email, Some(first)).await?.status(),
        StatusCode::OK
    );
    let again = login_with(&app, email, Some(first)).await?;
    assert_problem(again, StatusCode::UNAUTHORIZED, "mfa_required").await?;
    // Typed without dashes and in capitals, another one works.
    let typed = second.replace('-', "").to_uppercase();
    assert_eq!(
        login_with(&app, email, Some(&typed)).await?.status(),
        StatusCode::OK
    );
    Ok(())
}

async fn wrong_codes_are_throttled(app: TestApp) -> anyhow::Result<()> {
    let email = "hedy@example.org";
    let (_, client) = app.verified_customer(email).await?;
    let enrolled = enrol(&client, now()).await?;
    // The test configuration allows five wrong codes per user; the sixth attempt is locked
    // out, and so is the right code until the lockout ends.
    for _ in 0..5 {
        let wrong = login_with(&app, email, Some("000000")).await?;
        assert_problem(wrong, StatusCode::UNAUTHORIZED, "mfa_required").await?;
    }
    let locked = login_with(&app, email, Some(&code_at(&enrolled.secret, now())?)).await?;
    assert!(locked.headers().contains_key("retry-after"));
    assert_problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    Ok(())
}

async fn access_tokens_cannot_manage_the_second_factor(app: TestApp) -> anyhow::Result<()> {
    let tokens = app.customer_tokens("mary@example.org").await?;
    let token = field(&tokens, "access_token")?;
    let response = app
        .bearer_post(token, "/v1/me/mfa/totp", &json!({}))
        .await?;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await?;
    let response = app
        .bearer_post(token, "/v1/me/mfa/totp/confirm", &json!({"code": "123456"}))
        .await?;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}

async fn the_password_grant_needs_the_code_and_its_tokens_say_otp(
    app: TestApp,
) -> anyhow::Result<()> {
    let email = "barbara@example.org";
    let (_, client) = app.verified_customer(email).await?;
    let now = now();
    let enrolled = enrol(&client, now).await?;
    let form = [
        ("grant_type", "password"),
        ("username", email),
        ("password", CUSTOMER_PASSWORD),
        ("scope", "openid accounts:read"),
    ];
    let refused = app.token_request("first-party", &form).await?;
    assert_oauth_error(&refused, StatusCode::BAD_REQUEST, "mfa_required");

    let code = code_at(&enrolled.secret, now)?;
    let mut with_code = form.to_vec();
    with_code.push(("totp_code", &code));
    let (status, body) = app.token_request("first-party", &with_code).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, access) = jwt_parts(field(&body, "access_token")?)?;
    assert_eq!(access["amr"], json!(["pwd", "otp", "mfa"]));
    let (_, id_token) = jwt_parts(field(&body, "id_token")?)?;
    assert_eq!(id_token["amr"], json!(["pwd", "otp", "mfa"]));
    Ok(())
}

fn transfer(source: &Value, destination: &Value, amount: &str) -> Value {
    json!({"type": "TRANSFER", "source_account_id": id(source),
        "destination_account_id": id(destination), "amount": eur(amount)})
}

fn assert_step_up_challenge(response: &reqwest::Response) {
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.contains(r#"error="insufficient_user_authentication""#)
            && challenge.contains(r#"max_age="300""#),
        "{challenge}"
    );
}

async fn a_large_transfer_needs_a_login_with_a_code_within_five_minutes(
    app: TestApp,
    clock: ManualClock,
) -> anyhow::Result<()> {
    let email = "ada@example.org";
    let (client, current) = customer_with(&app, email, "COURANT").await?;
    let savings = client.open_account(&json!({"type": "EPARGNE"})).await?;
    deposit(&app.teller().await?, &current, "5000.00").await?;

    // Up to the threshold, a password login is enough; above it, not even with TOTP off.
    let at_threshold = client
        .post_once("/v1/transactions", &transfer(&current, &savings, "1000.00"))
        .await?;
    assert_eq!(at_threshold.status(), StatusCode::CREATED);
    let above = client
        .post_once("/v1/transactions", &transfer(&current, &savings, "1000.01"))
        .await?;
    assert_step_up_challenge(&above);
    assert_problem(above, StatusCode::UNAUTHORIZED, "mfa_required").await?;

    let at = clock.now_unix();
    let enrolled = enrol(&client, at).await?;
    let fresh = app
        .login_with_code(email, CUSTOMER_PASSWORD, &code_at(&enrolled.secret, at)?)
        .await?;
    let key = fresh_key();
    let large = transfer(&current, &savings, "1500.00");
    assert_eq!(
        fresh
            .post_with_key("/v1/transactions", &large, &key)
            .await?
            .status(),
        StatusCode::CREATED
    );

    // Six minutes later the session still works, but not for a large transfer.
    clock.advance(time::Duration::minutes(6));
    assert_eq!(
        fresh
            .get(&format!("/v1/accounts/{}", id(&current)))
            .await?
            .status(),
        StatusCode::OK
    );
    let stale = fresh.post_once("/v1/transactions", &large).await?;
    assert_step_up_challenge(&stale);
    assert_problem(stale, StatusCode::UNAUTHORIZED, "mfa_required").await?;
    assert_eq!(client.current_balance(id(&current)).await?, "2500.00");

    // A fresh login with the next code: allowed again.
    let at = clock.now_unix();
    let again = app
        .login_with_code(email, CUSTOMER_PASSWORD, &code_at(&enrolled.secret, at)?)
        .await?;
    assert_eq!(
        again.post_once("/v1/transactions", &large).await?.status(),
        StatusCode::CREATED
    );
    assert_eq!(client.current_balance(id(&current)).await?, "1000.00");
    Ok(())
}

async fn a_large_transfer_with_an_access_token_needs_an_otp_grant(
    app: TestApp,
    clock: ManualClock,
) -> anyhow::Result<()> {
    let email = "grace@example.org";
    let (client, current) = customer_with(&app, email, "COURANT").await?;
    let savings = client.open_account(&json!({"type": "EPARGNE"})).await?;
    deposit(&app.teller().await?, &current, "5000.00").await?;
    let scope = "accounts:read transactions:write";

    let password_only = app
        .password_tokens("first-party", email, CUSTOMER_PASSWORD, scope)
        .await?;
    let large = transfer(&current, &savings, "2000.00");
    let refused = app
        .bearer_post_once(
            field(&password_only, "access_token")?,
            "/v1/transactions",
            &large,
        )
        .await?;
    assert_step_up_challenge(&refused);
    assert_problem(refused, StatusCode::UNAUTHORIZED, "mfa_required").await?;

    let at = clock.now_unix();
    let enrolled = enrol(&client, at).await?;
    let code = code_at(&enrolled.secret, at)?;
    let (status, tokens) = app
        .token_request(
            "first-party",
            &[
                ("grant_type", "password"),
                ("username", email),
                ("password", CUSTOMER_PASSWORD),
                ("totp_code", &code),
                ("scope", scope),
            ],
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let accepted = app
        .bearer_post_once(field(&tokens, "access_token")?, "/v1/transactions", &large)
        .await?;
    assert_eq!(accepted.status(), StatusCode::CREATED);

    // A refreshed token keeps the original login time: after five minutes it no longer
    // counts as recent.
    clock.advance(time::Duration::minutes(6));
    let (status, refreshed) = app
        .token_request(
            "first-party",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", field(&tokens, "refresh_token")?),
            ],
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let stale = app
        .bearer_post_once(
            field(&refreshed, "access_token")?,
            "/v1/transactions",
            &large,
        )
        .await?;
    assert_problem(stale, StatusCode::UNAUTHORIZED, "mfa_required").await?;
    Ok(())
}
