//! The authorization endpoint through HTTP, on both engines: login and consent pages, the code
//! sent back, and every way a request or a code is refused (RFC 6749 §4.1, RFC 7636, RFC 9700).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::both_engines;
use crate::helpers::{CUSTOMER_PASSWORD, REDIRECT_URI, TestApp};
use crate::oauth_support::{assert_oauth_error, field};

both_engines!(
    a_user_signs_in_consents_and_the_client_redeems_the_code_once,
    bad_clients_and_redirect_uris_get_a_page_never_a_redirect,
    other_bad_requests_go_back_to_the_client_with_an_error,
    a_code_is_bound_to_its_verifier_and_its_client,
    forms_need_their_csrf_token_and_a_denial_goes_back_as_access_denied,
    a_user_with_totp_gives_a_one_time_code_on_a_second_page,
    repeated_wrong_passwords_get_a_page_with_retry_after,
);

const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A browser: a cookie jar, and redirects left to the test.
fn browser() -> anyhow::Result<Client> {
    Ok(Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// The hidden fields of the page's form, unescaped.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    let unescape = |text: &str| {
        text.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    page.split(r#"<input type="hidden" name=""#)
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once(r#"" value=""#)?;
            let (value, _) = rest.split_once('"')?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn authorize_url(app: &TestApp, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid accounts:read")
        .append_pair("state", "xyz-state")
        .append_pair("code_challenge", &challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    app.url(&format!("/oauth/authorize?{}", query.finish()))
}

/// The query parameters of a redirect's `Location`.
fn redirect_params(response: &reqwest::Response) -> anyhow::Result<Vec<(String, String)>> {
    anyhow::ensure!(
        response.status() == StatusCode::SEE_OTHER,
        "{}",
        response.status()
    );
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow::anyhow!("no Location"))?;
    let (base, query) = location
        .split_once('?')
        .ok_or_else(|| anyhow::anyhow!("no query in {location}"))?;
    anyhow::ensure!(base == REDIRECT_URI, "{location}");
    Ok(form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect())
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Signs in on the login page of `url` and returns the consent page's response.
async fn sign_in(browser: &Client, url: &str, username: &str) -> anyhow::Result<reqwest::Response> {
    let page = browser.get(url).send().await?;
    anyhow::ensure!(page.status() == StatusCode::OK, "{}", page.status());
    let mut fields = hidden_fields(&page.text().await?);
    fields.push(("username".to_owned(), username.to_owned()));
    fields.push(("password".to_owned(), CUSTOMER_PASSWORD.to_owned()));
    Ok(browser
        .post(url.split('?').next().unwrap_or_default())
        .form(&fields)
        .send()
        .await?)
}

/// Approves on a consent page and returns the redirect's parameters.
async fn decide(
    browser: &Client,
    app: &TestApp,
    consent: reqwest::Response,
    decision: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    anyhow::ensure!(consent.status() == StatusCode::OK, "{}", consent.status());
    let mut fields = hidden_fields(&consent.text().await?);
    fields.push(("decision".to_owned(), decision.to_owned()));
    let answer = browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await?;
    redirect_params(&answer)
}

/// A code for `client` after a customer signed in and allowed.
async fn code_for(app: &TestApp, client: &str, email: &str) -> anyhow::Result<String> {
    let (client_id, _) = app.client(client)?;
    let browser = browser()?;
    let consent = sign_in(&browser, &authorize_url(app, &client_id, &[]), email).await?;
    let params = decide(&browser, app, consent, "allow").await?;
    param(&params, "code")
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no code in {params:?}"))
}

async fn redeem(
    app: &TestApp,
    client: &str,
    code: &str,
    verifier: &str,
) -> anyhow::Result<(StatusCode, Value)> {
    app.token_request(
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn a_user_signs_in_consents_and_the_client_redeems_the_code_once(
    app: TestApp,
) -> anyhow::Result<()> {
    app.verified_customer("oidc@example.org").await?;
    let (client_id, _) = app.client("web-app")?;
    let browser = browser()?;
    let url = authorize_url(&app, &client_id, &[("nonce", "n-0S6_WzA2Mj")]);
    let login = browser.get(&url).send().await?;
    assert_eq!(login.status(), StatusCode::OK);
    let csp = login.headers()["content-security-policy"]
        .to_str()?
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"), "{csp}");
    let html = login.text().await?;
    assert!(html.contains(r#"<label for="password">"#), "{html}");
    assert!(html.contains("web-app"), "the page names the client");

    let consent = sign_in(&browser, &url, "oidc@example.org").await?;
    let consent_csp = consent.headers()["content-security-policy"]
        .to_str()?
        .to_owned();
    assert!(
        consent_csp.contains("form-action 'self' http://127.0.0.1"),
        "{consent_csp}"
    );
    let params = decide(&browser, &app, consent, "allow").await?;
    assert_eq!(param(&params, "state"), Some("xyz-state"));
    assert_eq!(param(&params, "iss"), Some(app.url("").as_str()));
    let code = param(&params, "code").ok_or_else(|| anyhow::anyhow!("no code"))?;

    let (status, tokens) = redeem(&app, "web-app", code, VERIFIER).await?;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "openid accounts:read");
    let (_, id_claims) = crate::oauth_support::jwt_parts(field(&tokens, "id_token")?)?;
    assert_eq!(id_claims["nonce"], "n-0S6_WzA2Mj");
    let accounts = app
        .bearer_get(field(&tokens, "access_token")?, "/v1/accounts")
        .await?;
    assert_eq!(accounts.status(), StatusCode::OK);
    // Single use.
    let again = redeem(&app, "web-app", code, VERIFIER).await?;
    assert_oauth_error(&again, StatusCode::BAD_REQUEST, "invalid_grant");
    Ok(())
}

async fn bad_clients_and_redirect_uris_get_a_page_never_a_redirect(
    app: TestApp,
) -> anyhow::Result<()> {
    let (client_id, _) = app.client("web-app")?;
    let browser = browser()?;
    let unknown = authorize_url(&app, "0190c4b8-0000-7000-8000-000000000000", &[]);
    let unregistered = authorize_url(&app, &client_id, &[])
        .replace("127.0.0.1%2Fcallback", "127.0.0.1%2Fcallback%2Fevil");
    let lookalike = authorize_url(&app, &client_id, &[])
        .replace("127.0.0.1%2Fcallback", "127.0.0.1%2Fcallback%3Fx%3D1");
    for url in [unknown, unregistered, lookalike] {
        let response = browser.get(&url).send().await?;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(response.headers().get("location").is_none(), "{url}");
        let content_type = response.headers()["content-type"].to_str()?.to_owned();
        assert!(content_type.starts_with("text/html"), "{content_type}");
    }
    Ok(())
}

async fn other_bad_requests_go_back_to_the_client_with_an_error(
    app: TestApp,
) -> anyhow::Result<()> {
    let (client_id, _) = app.client("web-app")?;
    let browser = browser()?;
    let cases = [
        (
            authorize_url(&app, &client_id, &[])
                .replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            authorize_url(&app, &client_id, &[])
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_url(&app, &client_id, &[])
                .replace("scope=openid+accounts%3Aread", "scope=admin"),
            "invalid_scope",
        ),
    ];
    for (url, error) in cases {
        let response = browser.get(&url).send().await?;
        let params = redirect_params(&response)?;
        assert_eq!(param(&params, "error"), Some(error), "{url}");
        assert_eq!(param(&params, "state"), Some("xyz-state"));
        assert!(param(&params, "code").is_none());
    }
    Ok(())
}

async fn a_code_is_bound_to_its_verifier_and_its_client(app: TestApp) -> anyhow::Result<()> {
    app.verified_customer("bound@example.org").await?;
    let code = code_for(&app, "web-app", "bound@example.org").await?;
    let wrong = redeem(
        &app,
        "web-app",
        &code,
        "another-verifier-of-forty-three-characters-xx",
    )
    .await?;
    assert_oauth_error(&wrong, StatusCode::BAD_REQUEST, "invalid_grant");
    // The failed attempt used the code up.
    let after = redeem(&app, "web-app", &code, VERIFIER).await?;
    assert_oauth_error(&after, StatusCode::BAD_REQUEST, "invalid_grant");

    let code = code_for(&app, "web-app", "bound@example.org").await?;
    let other_client = redeem(&app, "third-party", &code, VERIFIER).await?;
    assert_oauth_error(&other_client, StatusCode::BAD_REQUEST, "invalid_grant");

    let code = code_for(&app, "web-app", "bound@example.org").await?;
    let other_uri = app
        .token_request(
            "web-app",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1/other"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await?;
    assert_oauth_error(&other_uri, StatusCode::BAD_REQUEST, "invalid_grant");
    Ok(())
}

async fn forms_need_their_csrf_token_and_a_denial_goes_back_as_access_denied(
    app: TestApp,
) -> anyhow::Result<()> {
    app.verified_customer("csrf@example.org").await?;
    let (client_id, _) = app.client("web-app")?;
    let url = authorize_url(&app, &client_id, &[]);
    // A login form posted from elsewhere: the fields, but not the cookie.
    let page = browser()?.get(&url).send().await?.text().await?;
    let mut fields = hidden_fields(&page);
    fields.push(("username".to_owned(), "csrf@example.org".to_owned()));
    fields.push(("password".to_owned(), CUSTOMER_PASSWORD.to_owned()));
    let forged = browser()?
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(
        forged.headers().get("set-cookie").is_none(),
        "no session was opened"
    );

    let browser = browser()?;
    let consent = sign_in(&browser, &url, "csrf@example.org").await?;
    let params = decide(&browser, &app, consent, "deny").await?;
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("xyz-state"));
    Ok(())
}

/// Posts a page's form with its hidden fields plus `extra`.
async fn submit(
    browser: &Client,
    app: &TestApp,
    page: &str,
    extra: &[(&str, &str)],
) -> anyhow::Result<reqwest::Response> {
    let mut fields = hidden_fields(page);
    fields.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Ok(browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await?)
}

async fn a_user_with_totp_gives_a_one_time_code_on_a_second_page(
    app: TestApp,
) -> anyhow::Result<()> {
    use crate::mfa::{code_at, enrol, now};
    let email = "totp@example.org";
    let (_, customer) = app.verified_customer(email).await?;
    let now = now();
    let enrolled = enrol(&customer, now).await?;
    let sessions = app.count("sessions").await?;
    let (client_id, _) = app.client("web-app")?;
    let browser = browser()?;
    let url = authorize_url(&app, &client_id, &[]);

    // The right password leads to the code page, and opens no session yet.
    let totp = sign_in(&browser, &url, email).await?;
    assert_eq!(totp.status(), StatusCode::OK);
    assert!(!totp.headers().contains_key("set-cookie"));
    let page = totp.text().await?;
    assert!(
        page.contains(r#"<label for="totp_code">One-time code</label>"#),
        "{page}"
    );
    assert_eq!(app.count("sessions").await?, sessions);

    // A wrong code: the same page again, with a message.
    let wrong = submit(&browser, &app, &page, &[("totp_code", "000000")]).await?;
    assert_eq!(wrong.status(), StatusCode::OK);
    let page = wrong.text().await?;
    assert!(page.contains("Wrong or already used code"), "{page}");

    // The code page's form is worthless without the browser's own CSRF cookie.
    let stranger = submit(
        &self::browser()?,
        &app,
        &page,
        &[("totp_code", &code_at(&enrolled.secret, now)?)],
    )
    .await?;
    assert_eq!(stranger.status(), StatusCode::BAD_REQUEST);

    // The right code: consent, then the code, whose tokens say a one-time code was used.
    let consent = submit(
        &browser,
        &app,
        &page,
        &[("totp_code", &code_at(&enrolled.secret, now)?)],
    )
    .await?;
    let params = decide(&browser, &app, consent, "allow").await?;
    let code = param(&params, "code").ok_or_else(|| anyhow::anyhow!("no code in {params:?}"))?;
    let (status, tokens) = redeem(&app, "web-app", code, VERIFIER).await?;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (_, access) = crate::oauth_support::jwt_parts(field(&tokens, "access_token")?)?;
    assert_eq!(access["amr"], serde_json::json!(["pwd", "otp", "mfa"]));

    // The finished login's challenge cannot open a second session.
    let replay = submit(
        &browser,
        &app,
        &page,
        &[("totp_code", &code_at(&enrolled.secret, now + 30)?)],
    )
    .await?;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

async fn repeated_wrong_passwords_get_a_page_with_retry_after(app: TestApp) -> anyhow::Result<()> {
    app.verified_customer("locked@example.org").await?;
    let (client_id, _) = app.client("web-app")?;
    let browser = browser()?;
    let url = authorize_url(&app, &client_id, &[]);
    for attempt in 1..=10 {
        let page = browser.get(&url).send().await?.text().await?;
        let answer = submit(
            &browser,
            &app,
            &page,
            &[
                ("username", "locked@example.org"),
                ("password", "not the password"),
            ],
        )
        .await?;
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry_after: u64 = answer.headers()["retry-after"].to_str()?.parse()?;
            assert!(retry_after >= 1, "Retry-After: {retry_after}");
            assert!(answer.text().await?.contains("Too many attempts"));
            return Ok(());
        }
        assert_eq!(answer.status(), StatusCode::OK, "attempt {attempt}");
    }
    anyhow::bail!("ten wrong passwords were never refused")
}
