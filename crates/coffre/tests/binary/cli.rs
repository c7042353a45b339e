//! The real `coffre` binary, end to end: `admin create-user`, `migrate`, `serve` on port 0,
//! a session of API calls, graceful shutdown on SIGTERM, and the captured logs, which must
//! hold one line per request and never a password, token, cookie or full IBAN.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "admin secret passphrase 77";
const UNKNOWN_USERNAME: &str = "mallory-typed-a-secret";
const CUSTOMER_PASSWORD: &str = "customer secret passphrase 88";

fn coffre(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coffre"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COFFRE_DATA_DIR", data_dir)
        .current_dir(data_dir);
    command
}

fn create_admin(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let mut child = coffre(data_dir)
        .args([
            "admin",
            "create-user",
            "--username",
            "root-admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(format!("{ADMIN_PASSWORD}\n").as_bytes())?;
    let output = child.wait_with_output()?;
    anyhow::ensure!(
        output.status.success(),
        "create-user failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout)?;
    let id = stdout.lines().last().unwrap_or_default().trim().to_owned();
    Ok(id)
}

/// Starts `coffre serve` on port 0 and returns the child, its base URL and a receiver of every
/// stdout line (read on a thread, so the pipe never fills up).
fn start_server(
    data_dir: &std::path::Path,
) -> anyhow::Result<(Child, String, mpsc::Receiver<String>)> {
    let mut child = coffre(data_dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(60))
            .with_context(|| format!("server did not announce its URL; output so far: {seen:?}"))?;
        if let Ok(event) = serde_json::from_str::<Value>(&line) {
            if let Some(url) = event["url"].as_str() {
                let url = url.to_owned();
                seen.push(line);
                return Ok((child, url, lines_rx));
            }
        }
        seen.push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_logs_without_secrets_and_stops_cleanly_on_sigterm() -> anyhow::Result<()>
{
    let data_dir = tempfile::tempdir()?;
    let migrate = coffre(data_dir.path()).arg("migrate").output()?;
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let admin_id = create_admin(data_dir.path())?;
    assert_eq!(uuid::Uuid::parse_str(&admin_id)?.get_version_num(), 7);
    assert!(data_dir.path().join("coffre.sqlite3").exists());

    let (mut child, url, lines) = start_server(data_dir.path())?;
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let login = client
        .post(format!("{url}/auth/login"))
        .json(&json!({"username": "root-admin", "password": ADMIN_PASSWORD}))
        .send()
        .await?;
    assert_eq!(login.status(), 200);
    let session_cookie = login.headers()["set-cookie"].to_str()?.to_owned();
    let session_token = session_cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_owned());
    let csrf = login.json::<Value>().await?["csrf_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let customer: Value = reqwest::Client::new()
        .post(format!("{url}/v1/customers"))
        .json(&json!({
            "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", "birth_date": "1990-12-10",
            "address": {"line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
            "password": CUSTOMER_PASSWORD,
        }))
        .send()
        .await?
        .json()
        .await?;
    let customer_id = customer["id"].as_str().unwrap_or_default();
    let kyc = client
        .post(format!("{url}/v1/customers/{customer_id}/kyc"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"decision": "VERIFIED"}))
        .send()
        .await?;
    assert_eq!(kyc.status(), 200);
    let account: Value = client
        .post(format!("{url}/v1/accounts"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"customer_id": customer_id, "type": "COURANT"}))
        .send()
        .await?
        .json()
        .await?;
    let iban = account["iban"].as_str().unwrap_or_default().to_owned();
    assert_eq!(iban.len(), 27);
    // A wrong password for a known account, then a login for an account that does not exist
    // (its "username" may be a password typed into the wrong field: it must not be logged).
    for username in ["root-admin", UNKNOWN_USERNAME] {
        let failed = client
            .post(format!("{url}/auth/login"))
            .json(&json!({"username": username, "password": "wrong password guess"}))
            .send()
            .await?;
        assert_eq!(failed.status(), 401);
    }

    // SIGTERM: the server stops accepting, finishes, and exits 0.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await??;
    assert!(exit.success(), "exit status {exit:?}");

    let log: Vec<String> = lines.try_iter().collect();
    let text = log.join("\n");
    for line in &log {
        serde_json::from_str::<Value>(line)
            .with_context(|| format!("not a JSON log line: {line}"))?;
    }
    let requests: Vec<Value> = log_events(&log)
        .filter(|e| e["target"] == "coffre::access")
        .collect();
    assert_eq!(requests.len(), 6, "one access line per request: {text}");
    for line in &requests {
        assert_eq!(line["client_ip"], "127.0.0.1", "{line}");
    }
    let failures: Vec<Value> = log_events(&log)
        .filter(|e| e["event"] == "login_failed")
        .collect();
    assert_eq!(failures.len(), 2, "{text}");
    assert_eq!(failures[0]["user_id"], admin_id.as_str());
    assert!(failures[1].get("user_id").is_none(), "{}", failures[1]);
    for failure in &failures {
        assert_eq!(failure["client_ip"], "127.0.0.1", "{failure}");
        assert_eq!(failure["span"]["client_ip"], "127.0.0.1", "{failure}");
        assert!(failure["span"]["request_id"].is_string(), "{failure}");
    }
    let kyc_line = requests
        .iter()
        .find(|e| e["route"] == "/v1/customers/{id}/kyc")
        .context("kyc line")?;
    assert_eq!(kyc_line["method"], "POST");
    assert_eq!(kyc_line["status"], 200);
    assert_eq!(kyc_line["user_id"], admin_id.as_str());
    assert!(kyc_line["latency_ms"].is_u64() && kyc_line["request_id"].is_string());
    for secret in [
        ADMIN_PASSWORD,
        CUSTOMER_PASSWORD,
        "wrong password guess",
        UNKNOWN_USERNAME,
        csrf.as_str(),
        iban.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "a secret leaked into the logs: {secret}"
        );
    }
    let session_token = session_token.context("session token")?;
    assert!(
        !text.contains(&session_token),
        "the session token leaked into the logs"
    );
    assert!(text.contains("shutting down"), "{text}");
    Ok(())
}

/// The JSON lines of a log.
fn log_events(log: &[String]) -> impl Iterator<Item = Value> + '_ {
    log.iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
}

#[test]
fn the_data_directory_it_creates_and_the_database_are_private() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| -> anyhow::Result<u32> {
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
    };
    let parent = tempfile::tempdir()?;
    let data_dir = parent.path().join("coffre-data");
    let migrate = Command::new(env!("CARGO_BIN_EXE_coffre"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(parent.path())
        .args(["migrate", "--data-dir"])
        .arg(&data_dir)
        .output()?;
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert_eq!(mode(&data_dir)?, 0o700);
    assert_eq!(mode(&data_dir.join("coffre.sqlite3"))?, 0o600);
    Ok(())
}
