//! Helpers for the authorization server tests: token requests, bearer calls, JWT pieces.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{CUSTOMER_PASSWORD, TestApp};

impl TestApp {
    /// The id and secret of one of the test app's clients.
    pub(crate) fn client(&self, name: &str) -> anyhow::Result<(String, Option<String>)> {
        self.clients
            .get(name)
            .cloned()
            .with_context(|| format!("no test client {name}"))
    }

    /// `POST /oauth/token` as `client` (see [`TestApp::client_post`]).
    pub(crate) async fn token_request(
        &self,
        client: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.client_post(client, "/oauth/token", form).await
    }

    /// A password-grant token pair for `username` through the first-party client.
    pub(crate) async fn password_tokens(
        &self,
        client: &str,
        username: &str,
        password: &str,
        scope: &str,
    ) -> anyhow::Result<Value> {
        let (status, body) = self
            .token_request(
                client,
                &[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                    ("scope", scope),
                ],
            )
            .await?;
        anyhow::ensure!(status == StatusCode::OK, "password grant: {status} {body}");
        Ok(body)
    }

    /// A verified customer's token pair (first-party client, every customer scope).
    pub(crate) async fn customer_tokens(&self, email: &str) -> anyhow::Result<Value> {
        self.verified_customer(email).await?;
        self.password_tokens(
            "first-party",
            email,
            CUSTOMER_PASSWORD,
            "openid profile accounts:read accounts:write customers:read",
        )
        .await
    }

    /// A GET with `Authorization: Bearer`.
    pub(crate) async fn bearer_get(&self, token: &str, path: &str) -> anyhow::Result<Response> {
        Ok(reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await?)
    }

    /// A JSON POST with `Authorization: Bearer` (and no cookie, so no CSRF token).
    pub(crate) async fn bearer_post(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<Response> {
        Ok(self.bearer_json_post(token, path, body).send().await?)
    }

    /// A JSON POST with `Authorization: Bearer` and a fresh `Idempotency-Key`.
    pub(crate) async fn bearer_post_once(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<Response> {
        Ok(self
            .bearer_json_post(token, path, body)
            .header("Idempotency-Key", crate::helpers::fresh_key())
            .send()
            .await?)
    }

    fn bearer_json_post(&self, token: &str, path: &str, body: &Value) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
    }

    /// A form POST to an OAuth endpoint as `client`: HTTP Basic for confidential clients,
    /// `client_id` in the form for public ones.
    pub(crate) async fn client_post(
        &self,
        client: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<(StatusCode, Value)> {
        let (id, secret) = self.client(client)?;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let mut request = reqwest::Client::new().post(self.url(path));
        match &secret {
            Some(secret) => request = request.basic_auth(&id, Some(secret)),
            None => fields.push(("client_id", &id)),
        }
        let response = request.form(&fields).send().await?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }
}

/// A token field of a token response.
pub(crate) fn field<'a>(body: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    body[name]
        .as_str()
        .with_context(|| format!("no {name} in {body}"))
}

/// The decoded header and payload of a JWT (not verified: for looking only).
pub(crate) fn jwt_parts(token: &str) -> anyhow::Result<(Value, Value)> {
    let mut parts = token.split('.');
    let mut decode = || -> anyhow::Result<Value> {
        let part = parts.next().context("missing JWT part")?;
        Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part)?)?)
    };
    let header = decode()?;
    let payload = decode()?;
    Ok((header, payload))
}

/// A JWT with the given header and payload and an arbitrary signature part.
pub(crate) fn forge(header: &Value, payload: &Value, signature: &str) -> anyhow::Result<String> {
    Ok(format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload)?)
    ))
}

/// Asserts an RFC 6749 error response.
pub(crate) fn assert_oauth_error(
    (status, body): &(StatusCode, Value),
    expected_status: StatusCode,
    error: &str,
) {
    assert_eq!(*status, expected_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}
