//! `coffre audit verify` and `coffre audit rebuild --check` with the real binary, on both
//! engines: intact after real API traffic; `verify` names the event someone with database
//! access altered behind Coffre's back, and the first event they cut off the end of the log.

use std::process::Output;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::support::{Api, STAFF_PASSWORD, Site, funded_accounts, sqlite_path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_commands_on_sqlite_pass_on_an_intact_log_and_name_tampering() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    audit_commands_catch_tampering(Site {
        data_dir: data_dir.path().to_owned(),
        database_url: None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_commands_on_postgresql_pass_on_an_intact_log_and_name_tampering()
-> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    audit_commands_catch_tampering(Site {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(coffre_store_tests::fresh_database_url().await?),
    })
    .await
}

async fn audit_commands_catch_tampering(site: Site) -> anyhow::Result<()> {
    let (migrated, _, err) = site.run(&["migrate"])?;
    anyhow::ensure!(migrated, "migrate: {err}");
    let empty = audit(&site, &["verify"])?;
    assert!(empty.status.success(), "{}", stderr(&empty));
    assert_eq!(report(&empty)?, json!({"ok": true, "events_checked": 0}));

    make_history(&site).await?;
    let verify = audit(&site, &["verify"])?;
    assert!(verify.status.success(), "{}", stderr(&verify));
    let intact = report(&verify)?;
    assert_eq!(intact["ok"], true);
    // CustomerRegistered, CustomerKycDecided, AccountCreated, TransactionCompleted and
    // AccountFrozen at least.
    let events = intact["events_checked"]
        .as_i64()
        .context("events_checked")?;
    assert!(events >= 5, "{intact}");

    let rebuild = audit(&site, &["rebuild", "--check"])?;
    assert!(rebuild.status.success(), "{}", stderr(&rebuild));
    let rebuilt = report(&rebuild)?;
    assert_eq!(rebuilt["ok"], true, "{rebuilt}");
    assert_eq!(rebuilt["mismatches"], json!([]));
    assert_eq!(rebuilt["accounts_checked"], 1);

    // Someone with database access lifts the append-only guard and alters event 2.
    lift_append_only_guard(&site).await?;
    let actor = fetch_text(&site, "SELECT actor FROM events WHERE sequence = 2").await?;
    let altered = execute(
        &site,
        "UPDATE events SET actor = actor || ' (forged)' WHERE sequence = 2",
    )
    .await?;
    assert_eq!(altered, 1);
    expect_broken_at(&site, 2)?;

    // Put back as it was, the log verifies again: the check is exact, not a false alarm.
    let restored = execute(
        &site,
        &format!("UPDATE events SET actor = '{actor}' WHERE sequence = 2"),
    )
    .await?;
    assert_eq!(restored, 1);
    let verify = audit(&site, &["verify"])?;
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert_eq!(report(&verify)?["events_checked"], events);

    // The last two events cut off the end: what remains still links up, but it no longer
    // reaches the chain head.
    let cut = execute(
        &site,
        &format!("DELETE FROM events WHERE sequence > {}", events - 2),
    )
    .await?;
    assert_eq!(cut, 2);
    expect_broken_at(&site, events - 1)?;
    Ok(())
}

/// Runs `coffre audit <args>`.
fn audit(site: &Site, args: &[&str]) -> anyhow::Result<Output> {
    Ok(site.command().arg("audit").args(args).output()?)
}

/// `coffre audit verify` fails (exit 1) and names `sequence` as the first broken event.
fn expect_broken_at(site: &Site, sequence: i64) -> anyhow::Result<()> {
    let broken = audit(site, &["verify"])?;
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    let found = report(&broken)?;
    assert_eq!(found["ok"], false, "{found}");
    assert_eq!(found["first_broken"], sequence, "{found}");
    assert_eq!(found["events_checked"], sequence - 1, "{found}");
    assert!(
        stderr(&broken).contains(&format!("sequence {sequence}")),
        "{}",
        stderr(&broken)
    );
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

/// Runs the server; signs a customer up, verifies them, opens an account, deposits into it and
/// freezes it; stops the server.
async fn make_history(site: &Site) -> anyhow::Result<()> {
    site.create_user("root-admin", "admin")?;
    let server = site.serve()?;
    let admin = Api::login(&server.url, "root-admin", STAFF_PASSWORD).await?;
    let accounts = funded_accounts(&admin, "ada@example.org", 1, "250.00").await?;
    let account = accounts.first().context("account")?;
    let (status, _, body) = admin
        .post(
            &format!("/v1/accounts/{account}/freeze"),
            &json!({"reason": "suspicious activity"}),
            None,
        )
        .await?;
    anyhow::ensure!(status == 200, "freeze: {status} {body}");
    server.kill()
}

/// Drops the triggers that keep the event log append-only: the database's own guard, which
/// anyone with enough rights on the database can lift.
async fn lift_append_only_guard(site: &Site) -> anyhow::Result<()> {
    let statements: &[&str] = match site.database_url {
        Some(_) => &["DROP TRIGGER events_no_update_delete ON events"],
        None => &[
            "DROP TRIGGER events_no_update",
            "DROP TRIGGER events_no_delete",
        ],
    };
    for statement in statements {
        execute(site, statement).await?;
    }
    Ok(())
}

/// Runs one statement on the site's database, behind Coffre's back; returns the rows it
/// changed.
async fn execute(site: &Site, statement: &str) -> anyhow::Result<u64> {
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
    Ok(match &site.database_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
            sqlx::query(statement)
                .execute(&mut conn)
                .await?
                .rows_affected()
        }
        None => {
            let mut conn = sqlite(site).await?;
            sqlx::query(statement)
                .execute(&mut conn)
                .await?
                .rows_affected()
        }
    })
}

/// Reads one text value from the site's database.
async fn fetch_text(site: &Site, query: &str) -> anyhow::Result<String> {
    let query = sqlx::AssertSqlSafe(query.to_owned());
    Ok(match &site.database_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
            sqlx::query_scalar(query).fetch_one(&mut conn).await?
        }
        None => {
            let mut conn = sqlite(site).await?;
            sqlx::query_scalar(query).fetch_one(&mut conn).await?
        }
    })
}

async fn sqlite(site: &Site) -> anyhow::Result<sqlx::SqliteConnection> {
    let url = format!("sqlite://{}", sqlite_path(&site.data_dir).display());
    Ok(<sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await?)
}
