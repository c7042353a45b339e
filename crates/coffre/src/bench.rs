//! `coffre bench`: a load generator for `POST /v1/transactions` against a running server.
//!
//! It logs in as a teller, sets up its own customer and accounts (funded by deposits), then
//! keeps `connections` clients sending keyed transfers for `duration`, uniformly among the
//! accounts or with half of them touching one hot account, and prints throughput and latency
//! percentiles as one JSON line. Every request is a real, committed transfer.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

/// How transfers pick their accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Any two distinct accounts.
    Uniform,
    /// Half of the transfers touch account 0.
    Hot,
}

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct BenchOptions {
    /// The server's base URL.
    pub(crate) url: String,
    /// A teller or admin login.
    pub(crate) username: String,
    /// Its password.
    pub(crate) password: String,
    /// Concurrent clients.
    pub(crate) connections: usize,
    /// How long to send.
    pub(crate) duration: Duration,
    /// How many accounts to spread transfers over.
    pub(crate) accounts: usize,
    /// Uniform or hot-account.
    pub(crate) mode: Mode,
}

/// A client with a session cookie and CSRF token.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
    cookie: String,
    csrf: String,
}

impl Client {
    async fn login(url: &str, username: &str, password: &str) -> anyhow::Result<Client> {
        let http = reqwest::Client::new();
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

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        key: Option<String>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn expect(
        &self,
        path: &str,
        body: Value,
        key: Option<String>,
        want: u16,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.send(reqwest::Method::POST, path, &body, key).await?;
        anyhow::ensure!(status == want, "POST {path} answered {status}: {answer}");
        Ok(answer)
    }
}

/// A customer with `count` current accounts, each funded and without a practical daily limit.
async fn set_up(client: &Client, count: usize, run: &str) -> anyhow::Result<Vec<String>> {
    let email = format!("bench-{run}@example.org");
    let customer = client
        .expect(
            "/v1/customers",
            json!({
                "first_name": "Bench", "last_name": "Mark", "email": email, "birth_date": "1990-01-01",
                "address": {"line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR"},
                "password": format!("bench password {run}"),
            }),
            None,
            201,
        )
        .await?;
    let customer_id = customer["id"].as_str().context("customer id")?;
    client
        .expect(
            &format!("/v1/customers/{customer_id}/kyc"),
            json!({"decision": "VERIFIED"}),
            None,
            200,
        )
        .await?;
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let account = client
            .expect(
                "/v1/accounts",
                json!({"customer_id": customer_id, "type": "COURANT"}),
                None,
                201,
            )
            .await?;
        let id = account["id"].as_str().context("account id")?.to_owned();
        let limit = json!({"daily_limit": {"amount": "1000000000.00", "currency": "EUR"}});
        let (status, answer) = client
            .send(
                reqwest::Method::PATCH,
                &format!("/v1/accounts/{id}"),
                &limit,
                None,
            )
            .await?;
        anyhow::ensure!(
            status == 200,
            "setting the daily limit answered {status}: {answer}"
        );
        let deposit = json!({"type": "DEPOSIT", "destination_account_id": id,
                             "amount": {"amount": "1000000.00", "currency": "EUR"}});
        client
            .expect(
                "/v1/transactions",
                deposit,
                Some(format!("bench-{run}-deposit-{n}")),
                201,
            )
            .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// One client's loop: transfers until the deadline; returns latencies (µs) and failures.
async fn load(
    client: Client,
    accounts: Vec<String>,
    mode: Mode,
    deadline: Instant,
    seed: u64,
    run: String,
) -> (Vec<u64>, u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |bound: usize| {
        // xorshift64: choosing accounts needs speed, not cryptographic quality.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % u64::try_from(bound.max(1)).unwrap_or(1)).unwrap_or(0)
    };
    let (mut latencies, mut failures) = (Vec::new(), 0u64);
    let mut n = 0u64;
    while Instant::now() < deadline {
        let count = accounts.len();
        let (mut source, mut destination) = (next(count), next(count));
        if mode == Mode::Hot && next(2) == 0 {
            if next(2) == 0 {
                source = 0
            } else {
                destination = 0
            }
        }
        if source == destination {
            destination = (destination + 1) % count;
        }
        let body = json!({
            "type": "TRANSFER",
            "source_account_id": accounts.get(source),
            "destination_account_id": accounts.get(destination),
            "amount": {"amount": format!("0.{:02}", 1 + next(99)), "currency": "EUR"},
        });
        let started = Instant::now();
        let sent = client
            .send(
                reqwest::Method::POST,
                "/v1/transactions",
                &body,
                Some(format!("bench-{run}-{seed}-{n}")),
            )
            .await;
        n += 1;
        match sent {
            Ok((201, _)) => {
                latencies.push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX))
            }
            _ => failures += 1,
        }
    }
    (latencies, failures)
}

/// The `q`-th quantile (0..=1000 per mille) of sorted latencies, in milliseconds.
fn quantile_ms(sorted: &[u64], per_mille: usize) -> f64 {
    let index = (sorted.len().saturating_sub(1) * per_mille) / 1000;
    let micros = sorted.get(index).copied().unwrap_or(0);
    // Display only: latencies are reported, never computed with, as fractional milliseconds.
    #[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
    let ms = micros as f64 / 1000.0;
    ms
}

/// Runs the benchmark and prints its result as one JSON line.
pub(crate) async fn run(options: BenchOptions) -> anyhow::Result<()> {
    let run = uuid::Uuid::now_v7().simple().to_string();
    let client = Client::login(&options.url, &options.username, &options.password).await?;
    let accounts = set_up(&client, options.accounts.max(2), &run).await?;
    let started = Instant::now();
    let deadline = started + options.duration;
    let tasks: Vec<_> = (0..options.connections.max(1))
        .map(|seed| {
            let client = Client {
                http: reqwest::Client::new(),
                ..client.clone()
            };
            tokio::spawn(load(
                client,
                accounts.clone(),
                options.mode,
                deadline,
                seed as u64,
                run.clone(),
            ))
        })
        .collect();
    let (mut latencies, mut failures) = (Vec::new(), 0u64);
    for task in tasks {
        let (l, f) = task.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    // Display only, like the latencies.
    #[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
    let throughput = (latencies.len() as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0;
    let report = json!({
        "mode": format!("{:?}", options.mode).to_lowercase(),
        "connections": options.connections,
        "accounts": options.accounts,
        "duration_s": elapsed.as_secs_f64(),
        "completed": latencies.len(),
        "failed": failures,
        "throughput_per_s": throughput,
        "latency_ms": {
            "p50": quantile_ms(&latencies, 500),
            "p99": quantile_ms(&latencies, 990),
            "p999": quantile_ms(&latencies, 999),
        },
    });
    #[allow(clippy::print_stdout)] // The report on stdout is this command's output.
    {
        println!("{report}");
    }
    anyhow::ensure!(failures == 0, "{failures} transfers failed");
    Ok(())
}
