//! End to end in a real browser: headless Chromium (Debian's `chromium`, driven by
//! `playwright-core` from `tests/browser/authorize.mjs`) walks `/oauth/authorize` of the real
//! `coffre` binary as a customer with TOTP enabled: password, one-time code, consent, and the
//! redirect to the client with a code, which then buys an access token whose `amr` says "otp".
//! The screenshots of the pages are kept under `test-artifacts/browser/` at the workspace root.
//!
//! Needs Node.js, `npm ci` in tests/browser and `/usr/bin/chromium` (`./scripts/test` installs
//! them); without them the test fails, it does not skip.

use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge};
use serde_json::{Value, json};

use crate::support::browser;
use crate::support::{Api, CUSTOMER_PASSWORD, Site, json_line};

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const EMAIL: &str = "ada.browser@example.com";

/// `coffre admin create-client` for a public third-party app (so: consent page); its id.
fn register_client(site: &Site) -> anyhow::Result<String> {
    let (ok, out, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Browser test",
        "--type",
        "public",
        "--redirect-uri",
        REDIRECT_URI,
        "--grant",
        "authorization_code",
        "--scope",
        "accounts:read",
        "--scope",
        "openid",
    ])?;
    anyhow::ensure!(ok, "create-client: {err}");
    let client = json_line(&out)?;
    Ok(client["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned())
}

/// Signs a customer up and logs them in.
async fn customer_session(base: &str) -> anyhow::Result<Api> {
    let signed_up = reqwest::Client::new()
        .post(format!("{base}/v1/customers"))
        .json(&json!({
            "first_name": "Ada", "last_name": "Lovelace", "email": EMAIL, "birth_date": "1990-12-10",
            "address": {"line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
            "password": CUSTOMER_PASSWORD,
        }))
        .send()
        .await?;
    anyhow::ensure!(
        signed_up.status() == 201,
        "sign-up: {} {}",
        signed_up.status(),
        signed_up.text().await?
    );
    Api::login(base, EMAIL, CUSTOMER_PASSWORD).await
}

/// Enrols the session's user in TOTP and returns the secret (base32). The confirmation uses the
/// code of the previous step (still accepted), so that the browser's code, computed for the
/// current step, is of a later step and not refused as a replay.
async fn enable_totp(api: &Api) -> anyhow::Result<String> {
    let (status, _, enrolment) = api.post("/v1/me/mfa/totp", &json!({}), None).await?;
    anyhow::ensure!(status == 200, "TOTP enrolment: {status} {enrolment}");
    let secret = enrolment["secret"]
        .as_str()
        .with_context(|| format!("no secret in {enrolment}"))?
        .to_owned();
    anyhow::ensure!(
        enrolment["otpauth_uri"]
            .as_str()
            .is_some_and(|uri| uri.starts_with("otpauth://totp/")),
        "otpauth_uri: {enrolment}"
    );
    anyhow::ensure!(
        enrolment["qr_svg"]
            .as_str()
            .is_some_and(|svg| svg.contains("<svg")),
        "qr_svg: {enrolment}"
    );
    let code = browser::totp_code(&secret, browser::unix_now()? - 30)?;
    let (status, _, confirmed) = api
        .post("/v1/me/mfa/totp/confirm", &json!({"code": code}), None)
        .await?;
    anyhow::ensure!(status == 200, "TOTP confirmation: {status} {confirmed}");
    let recovery = confirmed["recovery_codes"]
        .as_array()
        .with_context(|| format!("no recovery codes in {confirmed}"))?;
    anyhow::ensure!(
        recovery.len() == 10 && recovery.iter().all(Value::is_string),
        "recovery codes: {confirmed}"
    );
    Ok(secret)
}

/// The value of a query parameter.
fn parameter(url: &reqwest::Url, name: &str) -> anyhow::Result<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .with_context(|| format!("no {name} in {url}"))
}

/// The claims of a JWT, unverified (other tests check the signatures).
fn jwt_claims(token: &str) -> anyhow::Result<Value> {
    let payload = token.split('.').nth(1).context("not a JWT")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_with_totp_authorizes_a_client_in_headless_chromium() -> anyhow::Result<()> {
    // First, so that a machine without the browser tools fails at once and says why.
    let script = browser::script("authorize.mjs")?;
    let screenshots = browser::screenshot_dir("authorize")?;

    let data_dir = tempfile::tempdir()?;
    let site = Site {
        data_dir: data_dir.path().to_owned(),
        database_url: None,
    };
    let client_id = register_client(&site)?;
    let server = site.serve()?;
    let issuer = server.url.clone();

    let customer = customer_session(&issuer).await?;
    let secret = enable_totp(&customer).await?;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random().secret().clone();
    let nonce = Nonce::new_random().secret().clone();
    let authorize_url = reqwest::Url::parse_with_params(
        &format!("{issuer}/oauth/authorize"),
        [
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid accounts:read"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )?;

    let screenshot_dir = screenshots.to_string_lossy();
    let out = browser::run_script(
        &script,
        &[
            ("AUTHORIZE_URL", authorize_url.as_str()),
            ("USERNAME", EMAIL),
            ("PASSWORD", CUSTOMER_PASSWORD),
            ("TOTP_SECRET", secret.as_str()),
            ("REDIRECT_URI", REDIRECT_URI),
            ("SCREENSHOT_DIR", &screenshot_dir),
        ],
        Duration::from_secs(60),
    )
    .await?;
    let callback = json_line(&out)?;
    let callback = reqwest::Url::parse(callback["callback_url"].as_str().context("callback_url")?)?;
    anyhow::ensure!(
        callback.as_str().starts_with(&format!("{REDIRECT_URI}?")),
        "the browser landed on {callback}"
    );
    assert_eq!(parameter(&callback, "state")?, state);
    // RFC 9207: the issuer in the redirect.
    assert_eq!(parameter(&callback, "iss")?, issuer);
    let code = parameter(&callback, "code")?;

    let response = reqwest::Client::new()
        .post(format!("{issuer}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", client_id.as_str()),
            ("code_verifier", verifier.secret().as_str()),
        ])
        .send()
        .await?;
    let status = response.status();
    let tokens: Value = response.json().await?;
    anyhow::ensure!(status == 200, "token: {status} {tokens}");
    let claims = jwt_claims(tokens["access_token"].as_str().context("access_token")?)?;
    let amr = claims["amr"]
        .as_array()
        .with_context(|| format!("no amr in {claims}"))?;
    assert!(amr.iter().any(|method| method == "otp"), "amr: {claims}");

    for name in ["totp.png", "consent.png", "callback.png"] {
        browser::assert_png(&screenshots.join(name))?;
    }
    server.kill()?;
    Ok(())
}
