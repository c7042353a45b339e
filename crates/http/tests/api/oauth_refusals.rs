//! How the authorization server refuses: a throttled password grant in the RFC 6749 error
//! format (with `Retry-After`), and introspection for resource servers only.

use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::{TELLER, TestApp};
use crate::oauth_support::{assert_oauth_error, field};

both_engines!(a_throttled_password_grant_answers_in_the_oauth_format);

async fn a_throttled_password_grant_answers_in_the_oauth_format(
    app: TestApp,
) -> anyhow::Result<()> {
    let wrong = [
        ("grant_type", "password"),
        ("username", TELLER),
        ("password", "not the password at all"),
    ];
    // The test apps lock an account out after three failures.
    for _ in 0..3 {
        let answer = app.token_request("first-party", &wrong).await?;
        assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let (id, secret) = app.client("first-party")?;
    let throttled = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(&id, secret)
        .form(&wrong)
        .send()
        .await?;
    let retry_after: u64 = throttled
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    let content_type = throttled
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/json");
    let answer = (throttled.status(), throttled.json().await?);
    assert_oauth_error(&answer, StatusCode::TOO_MANY_REQUESTS, "invalid_grant");
    let description = field(&answer.1, "error_description")?;
    assert!(description.contains("too many"), "{description}");
    Ok(())
}
