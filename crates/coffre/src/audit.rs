//! `coffre audit verify` and `coffre audit rebuild --check`: the audit use cases run as a
//! system auditor, straight on the database (no HTTP). Each prints one JSON line on standard
//! output and fails (exit 1) when the log is not sound.

use coffre_app::AppError;
use coffre_app::audit::{Mismatch, system_auditor};
use coffre_app::ports::Storage;
use serde_json::{Value, json};

use crate::config::Config;
use crate::wiring::{self, Backend};

/// Re-checks the hash chain of the whole event log.
pub(crate) async fn verify(config: &Config) -> anyhow::Result<()> {
    match wiring::open_backend(config).await? {
        Backend::Sqlite(store) => verify_with(store, config).await,
        Backend::Postgres(store) => verify_with(store, config).await,
    }
}

/// Replays the event log and compares it with the live balances and statuses.
pub(crate) async fn rebuild_check(config: &Config) -> anyhow::Result<()> {
    match wiring::open_backend(config).await? {
        Backend::Sqlite(store) => rebuild_check_with(store, config).await,
        Backend::Postgres(store) => rebuild_check_with(store, config).await,
    }
}

async fn verify_with<S: Storage>(store: S, config: &Config) -> anyhow::Result<()> {
    let service = wiring::service(store, config).await?;
    let report = service
        .verify_log(&system_auditor())
        .await
        .map_err(failure)?;
    let mut line = json!({"ok": report.ok, "events_checked": report.events_checked});
    if let Some(sequence) = report.first_broken {
        line["first_broken"] = json!(sequence);
    }
    print_line(&line);
    match report.first_broken {
        None => Ok(()),
        Some(sequence) => anyhow::bail!("the event log is broken at sequence {sequence}"),
    }
}

async fn rebuild_check_with<S: Storage>(store: S, config: &Config) -> anyhow::Result<()> {
    let service = wiring::service(store, config).await?;
    let report = service
        .rebuild_check(&system_auditor())
        .await
        .map_err(failure)?;
    let mismatches: Vec<Value> = report.mismatches.iter().map(mismatch_json).collect();
    print_line(&json!({
        "ok": mismatches.is_empty(),
        "last_sequence": report.last_sequence,
        "events_replayed": report.events_replayed,
        "accounts_checked": report.accounts_checked,
        "mismatches": mismatches,
    }));
    if report.mismatches.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the event log does not reproduce the live state: {} mismatch(es)",
            report.mismatches.len()
        )
    }
}

fn mismatch_json(mismatch: &Mismatch) -> Value {
    json!({
        "account": mismatch.account_label(),
        "field": mismatch.field.as_str(),
        "live": mismatch.live,
        "replayed": mismatch.replayed,
    })
}

fn failure(error: AppError) -> anyhow::Error {
    anyhow::Error::new(error).context("the audit failed")
}

fn print_line(line: &Value) {
    #[allow(clippy::print_stdout)] // The report on stdout is this command's output.
    {
        println!("{line}");
    }
}
