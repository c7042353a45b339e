//! Driving the real `coffre` binary from tests: commands, a running server, and an API client
//! with a staff session.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

/// The password of every staff user the tests create.
pub(crate) const STAFF_PASSWORD: &str = "staff secret passphrase 77";
/// The password of every customer the tests sign up.
pub(crate) const CUSTOMER_PASSWORD: &str = "customer secret passphrase 88";

/// Where a test's Coffre keeps its data: a data directory and, optionally, a PostgreSQL URL.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// The data directory (the SQLite file lives here when no URL is given).
    pub(crate) data_dir: PathBuf,
    /// `COFFRE_DATABASE_URL`, when not the embedded default.
    pub(crate) database_url: Option<String>,
}

impl Site {
    /// A `coffre` command with a clean environment pointing at this site.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_coffre"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("COFFRE_DATA_DIR", &self.data_dir)
            // These tests load the server far beyond the default 100 requests a minute.
            .env("COFFRE_RATE_LIMIT_REQUESTS_PER_MINUTE", "1000000000")
            .current_dir(&self.data_dir);
        if let Some(url) = &self.database_url {
            command.env("COFFRE_DATABASE_URL", url);
        }
        command
    }

    /// Runs `coffre admin create-user` for a staff user with [`STAFF_PASSWORD`].
    pub(crate) fn create_user(&self, username: &str, role: &str) -> anyhow::Result<()> {
        let args = [
            "admin",
            "create-user",
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
        ];
        let (created, _, stderr) = self.run_with_password(&args)?;
        anyhow::ensure!(created, "create-user failed: {stderr}");
        Ok(())
    }

    /// Runs a `coffre` subcommand that reads [`STAFF_PASSWORD`] from standard input
    /// (`--password-stdin`) and returns (success, stdout, stderr).
    pub(crate) fn run_with_password(
        &self,
        args: &[&str],
    ) -> anyhow::Result<(bool, String, String)> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(format!("{STAFF_PASSWORD}\n").as_bytes())?;
        let output = child.wait_with_output()?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// Runs a `coffre` subcommand to completion and returns (success, stdout, stderr).
    pub(crate) fn run(&self, args: &[&str]) -> anyhow::Result<(bool, String, String)> {
        let output = self.command().args(args).output()?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// Starts `coffre serve` on a free port and waits until it announces its address.
    pub(crate) fn serve(&self) -> anyhow::Result<Server> {
        self.serve_with_env(&[])
    }

    /// Like [`Site::serve`], with extra environment variables.
    pub(crate) fn serve_with_env(&self, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let mut child = self
            .command()
            .envs(env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(60))
                .context("the server did not announce its URL")?;
            // The bound address, not the public URL: behind a (configured) public URL, tests
            // still talk to this very node.
            let url = serde_json::from_str::<Value>(&line)
                .ok()
                .filter(|event| event["url"].is_string())
                .and_then(|event| event["address"].as_str().map(|a| format!("http://{a}")));
            if let Some(url) = url {
                // Keep draining the pipe so that the server never blocks on a full stdout.
                std::thread::spawn(move || while lines_rx.recv().is_ok() {});
                return Ok(Server { child, url });
            }
        }
    }
}

/// A running `coffre serve`.
pub(crate) struct Server {
    /// The process.
    pub(crate) child: Child,
    /// Its base URL.
    pub(crate) url: String,
}

impl Server {
    /// SIGKILL: no shutdown, no flush, nothing graceful.
    pub(crate) fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// A site for several nodes on one fresh PostgreSQL database, each reading `coffre_toml` as its
/// configuration file (its working directory is the data directory), with a `root` admin. Keep
/// the directory as long as the site.
pub(crate) async fn shared_site(coffre_toml: &str) -> anyhow::Result<(Site, tempfile::TempDir)> {
    let data_dir = tempfile::tempdir()?;
    std::fs::write(data_dir.path().join("coffre.toml"), coffre_toml)?;
    let site = Site {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(coffre_store_tests::fresh_database_url().await?),
    };
    site.create_user("root", "admin")?;
    Ok((site, data_dir))
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

/// A small deterministic generator (SplitMix64): the tests' random choices are reproducible.
pub(crate) struct Random(u64);

impl Random {
    /// A generator from a seed.
    pub(crate) fn new(seed: u64) -> Self {
        Random(seed)
    }

    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        let bound = u64::try_from(bound.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.next() % bound).unwrap_or(0)
    }
}

/// Per account, its balance and the sum of its postings, straight from the database; and the
/// number of transactions of a type.
pub(crate) async fn ledger_facts(
    site: &Site,
    transaction_type: &str,
) -> anyhow::Result<(Vec<(i64, i64)>, i64)> {
    const BALANCES: &str = "SELECT a.balance_minor, CAST(COALESCE((SELECT SUM(CASE WHEN p.direction = 'CREDIT' \
        THEN p.amount_minor ELSE -p.amount_minor END) FROM postings p WHERE p.account_id = a.id), 0) AS BIGINT) \
        FROM accounts a";
    match &site.database_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
            let balances: Vec<(i64, i64)> = sqlx::query_as(BALANCES).fetch_all(&mut conn).await?;
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE type = $1")
                    .bind(transaction_type)
                    .fetch_one(&mut conn)
                    .await?;
            Ok((balances, count))
        }
        None => {
            let url = format!("sqlite://{}", sqlite_path(&site.data_dir).display());
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await?;
            let balances: Vec<(i64, i64)> = sqlx::query_as(BALANCES).fetch_all(&mut conn).await?;
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE type = ?")
                .bind(transaction_type)
                .fetch_one(&mut conn)
                .await?;
            Ok((balances, count))
        }
    }
}

/// The JSON object a command printed on standard output, skipping log lines (which carry a
/// `level`).
pub(crate) fn json_line(out: &str) -> anyhow::Result<Value> {
    out.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|value| value.is_object() && value.get("level").is_none())
        .with_context(|| format!("no JSON line in {out:?}"))
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

/// The embedded database file of a data directory.
pub(crate) fn sqlite_path(data_dir: &Path) -> PathBuf {
    data_dir.join("coffre.sqlite3")
}
