//! A reused refresh token revokes its whole family: the refresh tokens and the access tokens
//! already minted with them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::oauth_support::{assert_oauth_error, field};

both_engines!(reusing_a_refresh_token_revokes_the_access_tokens_of_its_family);

async fn refresh(app: &TestApp, token: &str) -> anyhow::Result<(StatusCode, Value)> {
    app.token_request(
        "first-party",
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn reusing_a_refresh_token_revokes_the_access_tokens_of_its_family(
    app: TestApp,
) -> anyhow::Result<()> {
    let first = app.customer_tokens("family@example.org").await?;
    let (a1, r1) = (
        field(&first, "access_token")?,
        field(&first, "refresh_token")?,
    );
    let (status, second) = refresh(&app, r1).await?;
    assert_eq!(status, StatusCode::OK, "{second}");
    let a2 = field(&second, "access_token")?;
    // Another grant of the same user, which the reuse must not touch.
    let other = app
        .password_tokens(
            "first-party",
            "family@example.org",
            crate::helpers::CUSTOMER_PASSWORD,
            "customers:read",
        )
        .await?;
    let unrelated = field(&other, "access_token")?;
    for access in [a1, a2, unrelated] {
        let response = app.bearer_get(access, "/v1/customers/me").await?;
        assert_eq!(response.status(), StatusCode::OK);
    }

    assert_oauth_error(
        &refresh(&app, r1).await?,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    for access in [a1, a2] {
        let response = app.bearer_get(access, "/v1/customers/me").await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let (status, answer) = app
            .client_post("resource-server", "/oauth/introspect", &[("token", access)])
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, json!({"active": false}));
    }
    let response = app.bearer_get(unrelated, "/v1/customers/me").await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(())
}
