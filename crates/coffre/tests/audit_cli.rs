//! `coffre audit verify` and `coffre audit rebuild --check` with the real binary on SQLite:
//! intact after real API traffic, and `verify` names the event someone with file access
//! altered behind the database's back.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "admin secret passphrase 77";
const CUSTOMER_PASSWORD: &str = "customer secret passphrase 88";

fn coffre(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coffre"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COFFRE_DATA_DIR", data_dir)
        .current_dir(data_dir);
    command
}

fn create_admin(data_dir: &Path) -> anyhow::Result<()> {
    let mut child = coffre(data_dir)
        .args([
            "admin",
            "create-user",
            "--username",
            "root-admin",
            "--role",
            "admin",
        ])
        .arg("--password-stdin")
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
    anyhow::ensure!(output.status.success(), "create-user: {}", stderr(&output));
    Ok(())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON report line an audit command printed (logs may share stdout).
fn report(output: &Output) -> anyhow::Result<Value> {
    String::from_utf8(output.stdout.clone())?
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line.get("ok").is_some())
        .with_context(|| format!("no report; stderr: {}", stderr(output)))
}

/// Runs the server, signs a customer up, verifies them, opens and freezes an account, and
/// stops the server.
async fn make_history(data_dir: &Path) -> anyhow::Result<()> {
    let mut child = coffre(data_dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let url = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|event| event["url"].as_str().map(str::to_owned));
            if let Some(url) = url {
                if url_tx.send(url).is_err() {
                    break;
                }
            }
        }
    });
    let url = url_rx.recv_timeout(Duration::from_secs(60))?;
    let result = drive_api(&url).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    anyhow::ensure!(killed.success(), "kill failed");
    let exit = tokio::task::spawn_blocking(move || child.wait()).await??;
    result?;
    anyhow::ensure!(exit.success(), "server exit {exit:?}");
    Ok(())
}

async fn drive_api(url: &str) -> anyhow::Result<()> {
    let admin = reqwest::Client::builder().cookie_store(true).build()?;
    let login: Value = admin
        .post(format!("{url}/auth/login"))
        .json(&json!({"username": "root-admin", "password": ADMIN_PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let csrf = login["csrf_token"].as_str().context("csrf")?.to_owned();
    let customer: Value = reqwest::Client::new()
        .post(format!("{url}/v1/customers"))
        .json(&json!({
            "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", "birth_date": "1990-12-10",
            "address": {"line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
            "password": CUSTOMER_PASSWORD,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let customer_id = customer["id"].as_str().context("customer id")?;
    let post = |path: String, body: Value| {
        admin
            .post(format!("{url}{path}"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    post(
        format!("/v1/customers/{customer_id}/kyc"),
        json!({"decision": "VERIFIED"}),
    )
    .await?
    .error_for_status()?;
    let account: Value = post(
        "/v1/accounts".to_owned(),
        json!({"customer_id": customer_id, "type": "COURANT"}),
    )
    .await?
    .error_for_status()?
    .json()
    .await?;
    let account_id = account["id"].as_str().context("account id")?;
    post(
        format!("/v1/accounts/{account_id}/freeze"),
        json!({"reason": "suspicious activity"}),
    )
    .await?
    .error_for_status()?;
    Ok(())
}

/// Alters one stored event the way someone with access to the file could: the append-only
/// trigger is the database's own guard, so they drop it first.
async fn tamper(data_dir: &Path, sequence: i64) -> anyhow::Result<()> {
    let url = format!("sqlite://{}", data_dir.join("coffre.sqlite3").display());
    let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await?;
    sqlx::query("DROP TRIGGER events_no_update")
        .execute(&mut connection)
        .await?;
    let changed = sqlx::query("UPDATE events SET actor = 'system' WHERE sequence = ?")
        .bind(sequence)
        .execute(&mut connection)
        .await?;
    anyhow::ensure!(changed.rows_affected() == 1, "no event {sequence}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_and_rebuild_check_pass_on_an_intact_log_and_verify_names_tampering()
-> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let dir = data_dir.path();
    let migrate = coffre(dir).arg("migrate").output()?;
    anyhow::ensure!(migrate.status.success(), "migrate: {}", stderr(&migrate));

    let empty = coffre(dir).args(["audit", "verify"]).output()?;
    assert!(empty.status.success(), "{}", stderr(&empty));
    assert_eq!(report(&empty)?, json!({"ok": true, "events_checked": 0}));

    create_admin(dir)?;
    make_history(dir).await?;

    let verify = coffre(dir).args(["audit", "verify"]).output()?;
    assert!(verify.status.success(), "{}", stderr(&verify));
    let intact = report(&verify)?;
    assert_eq!(intact["ok"], true);
    // CustomerRegistered, CustomerKycDecided, AccountCreated, AccountFrozen at least.
    assert!(intact["events_checked"].as_i64() >= Some(4), "{intact}");

    let rebuild = coffre(dir).args(["audit", "rebuild", "--check"]).output()?;
    assert!(rebuild.status.success(), "{}", stderr(&rebuild));
    let rebuilt = report(&rebuild)?;
    assert_eq!(rebuilt["ok"], true, "{rebuilt}");
    assert_eq!(rebuilt["mismatches"], json!([]));
    assert_eq!(rebuilt["accounts_checked"], 1);

    tamper(dir, 2).await?;
    let broken = coffre(dir)
        .args(["audit", "verify", "--data-dir"])
        .arg(dir)
        .output()?;
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    let found = report(&broken)?;
    assert_eq!(found["ok"], false);
    assert_eq!(found["first_broken"], 2);
    assert_eq!(found["events_checked"], 1);
    assert!(
        stderr(&broken).contains("sequence 2"),
        "{}",
        stderr(&broken)
    );
    Ok(())
}
