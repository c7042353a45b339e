//! A staff session on one HTTP/1.1 keep-alive connection.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

/// How long one request may take before it counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A session cookie and CSRF token, sent by hand so that many connections share one login.
#[derive(Clone)]
pub(super) struct Client {
    http: reqwest::Client,
    url: String,
    cookie: String,
    csrf: String,
}

/// A request of the benchmark: what to send and the idempotency key, for writes.
pub(super) struct Call {
    /// GET or POST.
    pub(super) method: reqwest::Method,
    /// The path, from `/v1/...`.
    pub(super) path: String,
    /// The JSON body, for writes.
    pub(super) body: Option<Value>,
    /// The `Idempotency-Key`, for writes.
    pub(super) key: Option<String>,
}

/// A new HTTP/1.1 client: sent one request at a time, it keeps a single connection alive.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap_or_default()
}

impl Client {
    /// Logs in as a staff user.
    pub(super) async fn login(url: &str, username: &str, password: &str) -> anyhow::Result<Client> {
        let http = http_client();
        let response = http
            .post(format!("{url}/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .context("cannot reach the server")?;
        anyhow::ensure!(
            response.status() == 200,
            "login failed: {}",
            response.status()
        );
        let cookie = response
            .headers()
            .get("set-cookie")
            .context("no session cookie")?
            .to_str()?
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body: Value = response.json().await?;
        let csrf = body["csrf_token"]
            .as_str()
            .context("no CSRF token")?
            .to_owned();
        Ok(Client {
            http,
            url: url.to_owned(),
            cookie,
            csrf,
        })
    }

    /// The same session on a connection of its own.
    pub(super) fn new_connection(&self) -> Client {
        Client {
            http: http_client(),
            ..self.clone()
        }
    }

    /// Sends a call; returns the status and the raw body.
    pub(super) async fn call(&self, call: &Call) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut request = self
            .http
            .request(call.method.clone(), format!("{}{}", self.url, call.path))
            .header("cookie", &self.cookie);
        if let Some(body) = &call.body {
            request = request.header("x-csrf-token", &self.csrf).json(body);
        }
        if let Some(key) = &call.key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.bytes().await?.to_vec()))
    }

    /// Sends a call during set-up: any status but `want` is an error.
    pub(super) async fn expect(&self, call: Call, want: u16) -> anyhow::Result<Value> {
        let (status, body) = self.call(&call).await?;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        anyhow::ensure!(
            status == want,
            "{} {} answered {status}: {answer}",
            call.method,
            call.path
        );
        Ok(answer)
    }
}

impl Call {
    /// A write with a JSON body and, when given, an idempotency key.
    pub(super) fn write(
        method: reqwest::Method,
        path: impl Into<String>,
        body: Value,
        key: Option<String>,
    ) -> Call {
        Call {
            method,
            path: path.into(),
            body: Some(body),
            key,
        }
    }

    /// A read.
    pub(super) fn get(path: impl Into<String>) -> Call {
        Call {
            method: reqwest::Method::GET,
            path: path.into(),
            body: None,
            key: None,
        }
    }
}
