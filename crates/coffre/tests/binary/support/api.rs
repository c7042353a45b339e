//! An API client with a staff session, and the customers and funded accounts tests start from.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

/// The password of every customer the tests sign up.
pub(crate) const CUSTOMER_PASSWORD: &str = "customer secret passphrase 88";

/// An API client with a session: the cookie and CSRF token are sent by hand, so that many
/// independent HTTP clients (each with its own connections) can share one session.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    /// The server's base URL.
    pub(crate) base: String,
    cookie: String,
    csrf: String,
}

impl Api {
    /// Logs in and returns a client bound to the new session.
    pub(crate) async fn login(base: &str, username: &str, password: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{base}/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "login: {}", response.status());
        let cookie = response
            .headers()
            .get("set-cookie")
            .context("session cookie")?
            .to_str()?
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body: Value = response.json().await?;
        let csrf = body["csrf_token"].as_str().context("csrf")?.to_owned();
        Ok(Api {
            http,
            base: base.to_owned(),
            cookie,
            csrf,
        })
    }

    /// The same session on a new HTTP client (its own connection pool), or on another server.
    pub(crate) fn fresh_client(&self, base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            ..self.clone()
        }
    }

    /// GET, returning the status and the JSON body (Null when not JSON).
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// POST a JSON body, with an idempotency key when given; returns status, replay header and
    /// JSON body.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> anyhow::Result<(u16, bool, Value)> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .timeout(Duration::from_secs(30))
            .json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let replayed = response.headers().contains_key("idempotency-replayed");
        Ok((
            status,
            replayed,
            response.json().await.unwrap_or(Value::Null),
        ))
    }
}

/// Signs a customer up on the server at `base`; returns the customer's id.
pub(crate) async fn sign_up(base: &str, first_name: &str, email: &str) -> anyhow::Result<String> {
    let signed_up = reqwest::Client::new()
        .post(format!("{base}/v1/customers"))
        .json(&json!({
            "first_name": first_name, "last_name": "Lovelace", "email": email, "birth_date": "1990-12-10",
            "address": {"line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
            "password": CUSTOMER_PASSWORD,
        }))
        .send()
        .await?;
    anyhow::ensure!(signed_up.status() == 201, "sign-up: {}", signed_up.status());
    let customer: Value = signed_up.json().await?;
    Ok(customer["id"].as_str().context("customer id")?.to_owned())
}

/// Signs a customer up, has `teller` verify them, and opens `count` current accounts for them,
/// each credited with `deposit` EUR. Returns the account ids.
pub(crate) async fn funded_accounts(
    teller: &Api,
    email: &str,
    count: usize,
    deposit: &str,
) -> anyhow::Result<Vec<String>> {
    let customer_id = sign_up(&teller.base, "Ada", email).await?;
    let (status, _, _) = teller
        .post(
            &format!("/v1/customers/{customer_id}/kyc"),
            &json!({"decision": "VERIFIED"}),
            None,
        )
        .await?;
    anyhow::ensure!(status == 200, "kyc: {status}");
    let mut ids = Vec::new();
    for n in 0..count {
        let (status, _, account) = teller
            .post(
                "/v1/accounts",
                &json!({"customer_id": &customer_id, "type": "COURANT"}),
                None,
            )
            .await?;
        anyhow::ensure!(status == 201, "open account: {status}");
        let id = account["id"].as_str().context("account id")?.to_owned();
        let (status, _, body) = teller
            .post(
                "/v1/transactions",
                &json!({"type": "DEPOSIT", "destination_account_id": id,
                        "amount": {"amount": deposit, "currency": "EUR"}}),
                Some(&format!("setup-deposit-{email}-{n}")),
            )
            .await?;
        anyhow::ensure!(status == 201, "deposit: {status} {body}");
        ids.push(id);
    }
    Ok(ids)
}

/// The status of `GET /v1/audit/verify` called with an access token.
pub(crate) async fn audit_status(base: &str, token: &str) -> anyhow::Result<u16> {
    Ok(reqwest::Client::new()
        .get(format!("{base}/v1/audit/verify"))
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16())
}
