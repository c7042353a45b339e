//! The authorization server through HTTP, on both engines: grants, refresh rotation with reuse
//! detection, revocation, introspection, scopes at the API, and tokens Coffre did not sign.

use std::sync::Arc;

use coffre_app::ports::TokenSigner as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{CUSTOMER_PASSWORD, STAFF_PASSWORD, TELLER, TestApp, assert_problem};
use crate::oauth_support::{assert_oauth_error, field, forge, jwt_parts};

both_engines!(
    a_password_grant_gives_an_rfc_9068_access_token_that_calls_the_api,
    a_refresh_token_rotates_and_its_reuse_kills_the_family,
    the_refresh_endpoint_rotates_and_confidential_clients_still_authenticate,
    a_revoked_access_token_is_refused_at_its_next_use,
    introspection_tells_active_tokens_apart_and_nothing_else,
    a_token_does_only_what_its_scopes_and_its_role_allow,
    a_service_account_gets_tokens_by_client_credentials,
    the_token_endpoint_answers_rfc_6749_errors,
    tokens_coffre_did_not_issue_as_they_are_are_refused,
    discovery_and_jwks_let_a_client_verify_tokens_on_its_own,
    logging_out_revokes_the_users_refresh_tokens,
);

async fn a_password_grant_gives_an_rfc_9068_access_token_that_calls_the_api(
    app: TestApp,
) -> anyhow::Result<()> {
    let tokens = app.customer_tokens("ada@example.org").await?;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(
        tokens["scope"],
        "openid profile accounts:read accounts:write customers:read"
    );
    let access = field(&tokens, "access_token")?;
    let (header, claims) = jwt_parts(access)?;
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], app.url(""));
    assert_eq!(claims["aud"], app.url("/v1"));
    assert_eq!(claims["roles"], json!(["customer"]));
    assert_eq!(claims["amr"], json!(["pwd"]));
    for claim in ["sub", "exp", "iat", "nbf", "jti", "client_id", "auth_time"] {
        assert!(!claims[claim].is_null(), "no {claim} in {claims}");
    }
    let (_, id_claims) = jwt_parts(field(&tokens, "id_token")?)?;
    assert_eq!(id_claims["aud"], claims["client_id"]);
    assert_eq!(id_claims["preferred_username"], "ada@example.org");

    let me = app.bearer_get(access, "/v1/customers/me").await?;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await?;
    assert_eq!(me["email"], "ada@example.org");
    // No cookie, no CSRF token: a bearer token is not ambient authority.
    let opened = app
        .bearer_post(access, "/v1/accounts", &json!({"type": "COURANT"}))
        .await?;
    assert_eq!(opened.status(), StatusCode::CREATED);
    let info = app.bearer_get(access, "/oauth/userinfo").await?;
    assert_eq!(info.status(), StatusCode::OK);
    let info: Value = info.json().await?;
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["preferred_username"], "ada@example.org");
    Ok(())
}

async fn a_refresh_token_rotates_and_its_reuse_kills_the_family(
    app: TestApp,
) -> anyhow::Result<()> {
    let first = app.customer_tokens("rotate@example.org").await?;
    let first_refresh = field(&first, "refresh_token")?;
    let refresh = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.token_request(
                "first-party",
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await
        }
    };
    let (status, second) = refresh(first_refresh).await?;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second_refresh = field(&second, "refresh_token")?;
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(second["scope"], first["scope"]);
    let still = app
        .bearer_get(field(&second, "access_token")?, "/v1/customers/me")
        .await?;
    assert_eq!(still.status(), StatusCode::OK);

    // The first token again: someone replayed it, so the whole family dies...
    assert_oauth_error(
        &refresh(first_refresh).await?,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // ...including the token the legitimate client holds.
    assert_oauth_error(
        &refresh(second_refresh).await?,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // A refresh token of this family is useless to another client too.
    let (status, body) = app
        .token_request(
            "reader",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", second_refresh),
            ],
        )
        .await?;
    assert_oauth_error(&(status, body), StatusCode::BAD_REQUEST, "invalid_grant");
    Ok(())
}

async fn the_refresh_endpoint_rotates_and_confidential_clients_still_authenticate(
    app: TestApp,
) -> anyhow::Result<()> {
    let tokens = app.customer_tokens("json@example.org").await?;
    let refresh_token = field(&tokens, "refresh_token")?;
    let body = json!({"refresh_token": refresh_token});
    let anonymous = reqwest::Client::new()
        .post(app.url("/oauth/refresh"))
        .json(&body)
        .send()
        .await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let answer: Value = anonymous.json().await?;
    assert_eq!(answer["error"], "invalid_client");

    // A malformed body is an RFC 6749 error too, not a problem document.
    let malformed = reqwest::Client::new()
        .post(app.url("/oauth/refresh"))
        .json(&json!({"token": refresh_token}))
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let answer: Value = malformed.json().await?;
    assert_eq!(answer["error"], "invalid_request");

    let (id, secret) = app.client("first-party")?;
    let rotated = reqwest::Client::new()
        .post(app.url("/oauth/refresh"))
        .basic_auth(id, secret)
        .json(&body)
        .send()
        .await?;
    assert_eq!(rotated.status(), StatusCode::OK);
    assert_eq!(
        rotated
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let rotated: Value = rotated.json().await?;
    assert_ne!(field(&rotated, "refresh_token")?, refresh_token);
    Ok(())
}

async fn a_revoked_access_token_is_refused_at_its_next_use(app: TestApp) -> anyhow::Result<()> {
    let tokens = app.customer_tokens("revoke@example.org").await?;
    let access = field(&tokens, "access_token")?;
    assert_eq!(
        app.bearer_get(access, "/v1/customers/me").await?.status(),
        StatusCode::OK
    );
    // Another client cannot revoke it (and is not told so).
    let (status, _) = app
        .client_post("reader", "/oauth/revoke", &[("token", access)])
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.bearer_get(access, "/v1/customers/me").await?.status(),
        StatusCode::OK
    );
    let (status, _) = app
        .client_post("first-party", "/oauth/revoke", &[("token", access)])
        .await?;
    assert_eq!(status, StatusCode::OK);
    let refused = app.bearer_get(access, "/v1/customers/me").await?;
    assert_eq!(
        refused
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(r#"Bearer realm="coffre", error="invalid_token""#)
    );
    assert_problem(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    // Unknown tokens: still 200 (RFC 7009 §2.2).
    let (status, _) = app
        .client_post("first-party", "/oauth/revoke", &[("token", "not-a-token")])
        .await?;
    assert_eq!(status, StatusCode::OK);
    // Revoking the refresh token kills its family.
    let refresh_token = field(&tokens, "refresh_token")?;
    let (status, _) = app
        .client_post("first-party", "/oauth/revoke", &[("token", refresh_token)])
        .await?;
    assert_eq!(status, StatusCode::OK);
    let answer = app
        .token_request(
            "first-party",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await?;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
    Ok(())
}

async fn introspection_tells_active_tokens_apart_and_nothing_else(
    app: TestApp,
) -> anyhow::Result<()> {
    let tokens = app.customer_tokens("introspect@example.org").await?;
    let access = field(&tokens, "access_token")?;
    let (status, active) = app
        .client_post("resource-server", "/oauth/introspect", &[("token", access)])
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(active["active"], true);
    assert_eq!(active["scope"], tokens["scope"]);
    let (_, refresh) = app
        .client_post(
            "resource-server",
            "/oauth/introspect",
            &[("token", field(&tokens, "refresh_token")?)],
        )
        .await?;
    assert_eq!(refresh["active"], true);
    assert_eq!(refresh["token_type"], "refresh_token");

    for token in ["garbage", "a.b.c", ""] {
        let (status, answer) = app
            .client_post("resource-server", "/oauth/introspect", &[("token", token)])
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, json!({"active": false}));
    }
    app.client_post("first-party", "/oauth/revoke", &[("token", access)])
        .await?;
    let (_, revoked) = app
        .client_post("resource-server", "/oauth/introspect", &[("token", access)])
        .await?;
    assert_eq!(revoked, json!({"active": false}));
    // Only clients registered as resource servers may introspect: not a public client, nor
    // a confidential one that is not (it would learn about any token it is shown).
    let live = field(&tokens, "refresh_token")?;
    for client in ["web-app", "first-party", "third-party"] {
        let answer = app
            .client_post(client, "/oauth/introspect", &[("token", live)])
            .await?;
        assert_oauth_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
    }
    Ok(())
}

async fn a_token_does_only_what_its_scopes_and_its_role_allow(app: TestApp) -> anyhow::Result<()> {
    app.verified_customer("scoped@example.org").await?;
    let reader = app
        .password_tokens(
            "reader",
            "scoped@example.org",
            CUSTOMER_PASSWORD,
            "accounts:read",
        )
        .await?;
    let access = field(&reader, "access_token")?;
    assert_eq!(
        app.bearer_get(access, "/v1/accounts").await?.status(),
        StatusCode::OK
    );
    let write = app
        .bearer_post(access, "/v1/accounts", &json!({"type": "COURANT"}))
        .await?;
    assert_eq!(
        write
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(r#"Bearer realm="coffre", error="insufficient_scope", scope="accounts:write""#)
    );
    assert_problem(write, StatusCode::FORBIDDEN, "forbidden").await?;
    let other_scope = app.bearer_get(access, "/v1/customers/me").await?;
    assert_problem(other_scope, StatusCode::FORBIDDEN, "forbidden").await?;
    // Asking for more than the client registered is refused outright...
    let answer = app
        .token_request(
            "reader",
            &[
                ("grant_type", "password"),
                ("username", "scoped@example.org"),
                ("password", CUSTOMER_PASSWORD),
                ("scope", "accounts:read accounts:write"),
            ],
        )
        .await?;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_scope");
    // ...and a scope the user's role can never hold is simply not granted.
    let customer = app
        .password_tokens(
            "first-party",
            "scoped@example.org",
            CUSTOMER_PASSWORD,
            "accounts:read admin audit:read",
        )
        .await?;
    assert_eq!(customer["scope"], "accounts:read");
    let audit = app
        .bearer_get(field(&customer, "access_token")?, "/v1/audit/verify")
        .await?;
    assert_eq!(audit.status(), StatusCode::FORBIDDEN);
    // A teller's token with every scope still cannot read the audit log: the role decides.
    let teller = app
        .password_tokens(
            "first-party",
            TELLER,
            STAFF_PASSWORD,
            "audit:read accounts:read",
        )
        .await?;
    assert_eq!(teller["scope"], "accounts:read");
    Ok(())
}

async fn a_service_account_gets_tokens_by_client_credentials(app: TestApp) -> anyhow::Result<()> {
    let (status, tokens) = app
        .token_request("service", &[("grant_type", "client_credentials")])
        .await?;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert!(tokens.get("id_token").is_none(), "{tokens}");
    let access = field(&tokens, "access_token")?;
    let (_, claims) = jwt_parts(access)?;
    assert_eq!(claims["roles"], json!(["auditor"]));
    let verify = app.bearer_get(access, "/v1/audit/verify").await?;
    assert_eq!(verify.status(), StatusCode::OK);
    // Only clients registered for it.
    let answer = app
        .token_request("first-party", &[("grant_type", "client_credentials")])
        .await?;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "unauthorized_client");
    Ok(())
}

async fn the_token_endpoint_answers_rfc_6749_errors(app: TestApp) -> anyhow::Result<()> {
    let (id, _) = app.client("first-party")?;
    let wrong_secret = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some("not the secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_secret
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(r#"Basic realm="coffre""#)
    );
    let body: Value = wrong_secret.json().await?;
    assert_eq!(body["error"], "invalid_client");

    let implicit = app
        .token_request("first-party", &[("grant_type", "implicit")])
        .await?;
    assert_oauth_error(&implicit, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    let missing = app.token_request("first-party", &[]).await?;
    assert_oauth_error(&missing, StatusCode::BAD_REQUEST, "invalid_request");
    let bad_password = app
        .token_request(
            "first-party",
            &[
                ("grant_type", "password"),
                ("username", TELLER),
                ("password", "wrong password 123"),
            ],
        )
        .await?;
    assert_oauth_error(&bad_password, StatusCode::BAD_REQUEST, "invalid_grant");
    // Not first-party: the password grant does not exist for this client.
    let third_party = app
        .token_request(
            "third-party",
            &[
                ("grant_type", "password"),
                ("username", TELLER),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await?;
    assert_oauth_error(&third_party, StatusCode::BAD_REQUEST, "unauthorized_client");
    let repeated = app
        .token_request(
            "first-party",
            &[("grant_type", "password"), ("grant_type", "password")],
        )
        .await?;
    assert_oauth_error(&repeated, StatusCode::BAD_REQUEST, "invalid_request");
    let json_body = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await?;
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

async fn tokens_coffre_did_not_issue_as_they_are_are_refused(app: TestApp) -> anyhow::Result<()> {
    let tokens = app.customer_tokens("forged@example.org").await?;
    let access = field(&tokens, "access_token")?;
    let (header, claims) = jwt_parts(access)?;
    let signature = access.rsplit('.').next().unwrap_or_default();

    let mut forged = Vec::new();
    // alg none, no signature.
    forged.push(forge(
        &json!({"alg": "none", "typ": "at+jwt"}),
        &claims,
        "",
    )?);
    // HS256 with the public key as the HMAC secret.
    let jwks: Value = reqwest::get(app.url("/oauth/jwks")).await?.json().await?;
    let public = serde_json::to_vec(&jwks["keys"][0])?;
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.typ = Some("at+jwt".to_owned());
    hs_header.kid = header["kid"].as_str().map(str::to_owned);
    forged.push(jsonwebtoken::encode(
        &hs_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&public),
    )?);
    // Tampered payload, original signature.
    let mut admin = claims.clone();
    admin["roles"] = json!(["admin"]);
    forged.push(forge(&header, &admin, signature)?);
    // Unknown kid.
    let mut unknown = header.clone();
    unknown["kid"] = json!("0190c4b8-0000-7000-8000-000000000000");
    forged.push(forge(&unknown, &claims, signature)?);
    // Signed by Coffre's own key, but for another audience, or already expired.
    let issuer = app.url("");
    let other_audience =
        coffre_jose::JwtSigner::new(Arc::clone(&app.keys), issuer.clone(), "https://elsewhere");
    let mut elsewhere = claims.clone();
    elsewhere["aud"] = json!("https://elsewhere");
    let audience_claims: coffre_app::ports::AccessClaims = serde_json::from_value(elsewhere)?;
    forged.push(other_audience.sign_access_token(&audience_claims)?);
    let mut expired: coffre_app::ports::AccessClaims = serde_json::from_value(claims.clone())?;
    expired.exp -= 3_600;
    expired.iat -= 3_600;
    expired.nbf -= 3_600;
    forged.push(other_audience.sign_access_token(&expired)?);
    // An id token is not an access token.
    forged.push(field(&tokens, "id_token")?.to_owned());

    for token in &forged {
        let response = app.bearer_get(token, "/v1/customers/me").await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token}");
    }
    assert_eq!(
        app.bearer_get(access, "/v1/customers/me").await?.status(),
        StatusCode::OK
    );
    Ok(())
}

async fn discovery_and_jwks_let_a_client_verify_tokens_on_its_own(
    app: TestApp,
) -> anyhow::Result<()> {
    let metadata: Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await?
        .json()
        .await?;
    assert_eq!(metadata["issuer"], app.url(""));
    assert_eq!(metadata["token_endpoint"], app.url("/oauth/token"));
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let grants = metadata["grant_types_supported"].to_string();
    assert!(
        !grants.contains("password") && !grants.contains("implicit"),
        "{grants}"
    );
    let oauth_metadata: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server"))
        .await?
        .json()
        .await?;
    assert_eq!(oauth_metadata, metadata);

    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(app.url("/oauth/jwks")).await?.json().await?;
    let tokens = app.customer_tokens("jwks@example.org").await?;
    let access = field(&tokens, "access_token")?;
    let kid = jsonwebtoken::decode_header(access)?.kid;
    let jwk = jwks
        .keys
        .iter()
        .find(|key| key.common.key_id == kid)
        .ok_or_else(|| anyhow::anyhow!("the token's kid is not in the JWKS"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[app.url("/v1")]);
    validation.set_issuer(&[app.url("")]);
    let decoded = jsonwebtoken::decode::<Value>(
        access,
        &jsonwebtoken::DecodingKey::from_jwk(jwk)?,
        &validation,
    )?;
    assert_eq!(decoded.claims["scope"], tokens["scope"]);
    Ok(())
}

async fn logging_out_revokes_the_users_refresh_tokens(app: TestApp) -> anyhow::Result<()> {
    let tokens = app.customer_tokens("logout@example.org").await?;
    let session = app.login("logout@example.org", CUSTOMER_PASSWORD).await?;
    let logout = session.post("/auth/logout", &json!({})).await?;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let answer = app
        .token_request(
            "first-party",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", field(&tokens, "refresh_token")?),
            ],
        )
        .await?;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
    Ok(())
}
