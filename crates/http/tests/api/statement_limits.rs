//! What one statement may cost the server: JSON and CSV are streamed whole whatever the month's
//! size, a PDF holds a bounded number of lines, and a node renders a bounded number of PDFs at
//! once.

use std::num::NonZeroUsize;
use std::time::Duration;

use coffre_http::{HttpSettings, RenderGate, StatementSettings};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::each_engine;
use crate::helpers::{
    Engine, ManualClock, UserClient, assert_problem, spawn_app_with, test_settings,
};
use crate::holds::{deposit, eur, funded_account};
use crate::statement_csv::csv_statement;

each_engine!(
    a_pdf_longer_than_the_limit_is_refused_and_the_csv_is_not,
    a_pdf_waits_for_a_free_render_then_answers_503,
    a_month_longer_than_a_page_of_reads_is_streamed_whole,
);

/// Test settings with these statement limits.
fn settings(pdf_max_lines: u64, renders: RenderGate) -> HttpSettings {
    HttpSettings {
        statements: StatementSettings {
            pdf_max_lines,
            renders,
        },
        ..test_settings()
    }
}

/// The month the clock is in, `YYYY-MM`.
fn month(clock: &ManualClock) -> String {
    let now = coffre_app::ports::Clock::now(clock);
    format!("{:04}-{:02}", now.year(), u8::from(now.month()))
}

/// `GET` the statement with an `Accept` header.
async fn statement(
    client: &UserClient,
    account: &str,
    month: &str,
    accept: &str,
) -> anyhow::Result<Response> {
    Ok(client
        .request(
            reqwest::Method::GET,
            &format!("/v1/accounts/{account}/statement?month={month}"),
        )
        .header("Accept", accept)
        .send()
        .await?)
}

async fn a_pdf_longer_than_the_limit_is_refused_and_the_csv_is_not(
    engine: Engine,
) -> anyhow::Result<()> {
    let clock = ManualClock::new();
    let gate = RenderGate::new(NonZeroUsize::MIN, Duration::from_secs(5));
    let app = spawn_app_with(engine, settings(3, gate), clock.clone()).await?;
    let (client, teller, account) = funded_account(&app, "ada@example.org", "1.00").await?;
    deposit(&teller, &account, "2.00").await?;
    deposit(&teller, &account, "3.00").await?;
    let month = month(&clock);
    let at_the_limit = statement(&client, &account, &month, "application/pdf").await?;
    assert_eq!(
        at_the_limit.status(),
        StatusCode::OK,
        "3 lines fit in a PDF"
    );

    deposit(&teller, &account, "4.00").await?;
    let refused = statement(&client, &account, &month, "application/pdf").await?;
    let problem = assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "statement_too_large",
    )
    .await?;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("4 lines") && detail.contains("at most 3") && detail.contains("CSV"),
        "{detail}"
    );
    let csv = csv_statement(&client, &account, &month).await?;
    assert_eq!(csv.lines().count(), 1 + 4, "the CSV has no limit");
    let json = statement(&client, &account, &month, "application/json").await?;
    let json: Value = json.json().await?;
    assert_eq!(json["lines"].as_array().map(Vec::len), Some(4));
    Ok(())
}

async fn a_pdf_waits_for_a_free_render_then_answers_503(engine: Engine) -> anyhow::Result<()> {
    let clock = ManualClock::new();
    // One render at a time, and no wait: a PDF asked while the render is taken is refused.
    let gate = RenderGate::new(NonZeroUsize::MIN, Duration::ZERO);
    let app = spawn_app_with(engine, settings(100, gate.clone()), clock.clone()).await?;
    let (client, _, account) = funded_account(&app, "ada@example.org", "1.00").await?;
    let month = month(&clock);

    // The node's one render is in use (as by a long PDF another request is rendering).
    let held = gate.try_enter();
    assert!(held.is_some());
    let busy = statement(&client, &account, &month, "application/pdf").await?;
    let retry_after = busy
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    assert_eq!(retry_after, Some(1));
    assert_problem(busy, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await?;
    // Streamed formats cost one page of memory and take no render.
    let csv = statement(&client, &account, &month, "text/csv").await?;
    assert_eq!(csv.status(), StatusCode::OK);

    drop(held);
    let free = statement(&client, &account, &month, "application/pdf").await?;
    assert_eq!(free.status(), StatusCode::OK);
    assert!(free.bytes().await?.starts_with(b"%PDF-"));
    assert!(gate.try_enter().is_some(), "the render's turn ends with it");
    Ok(())
}

/// A batch of `count` teller transactions of `kind` on `account`.
async fn batch(
    teller: &UserClient,
    account: &str,
    kind: &str,
    amount: &str,
    count: usize,
) -> anyhow::Result<()> {
    let side = if kind == "DEPOSIT" {
        "destination_account_id"
    } else {
        "source_account_id"
    };
    let item = json!({"type": kind, side: account, "amount": eur(amount)});
    let body = json!({"transactions": vec![item; count]});
    let response = teller.post_once("/v1/transactions/batch", &body).await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "{}", response.status());
    let result: Value = response.json().await?;
    anyhow::ensure!(result["committed"] == true, "{result}");
    Ok(())
}

/// A decimal EUR amount in cents.
fn cents(amount: &Value) -> anyhow::Result<i64> {
    let text = amount["amount"].as_str().unwrap_or_default();
    let (units, cents) = text.split_once('.').unwrap_or((text, "00"));
    let sign = if units.starts_with('-') { -1 } else { 1 };
    Ok(units.parse::<i64>()? * 100 + sign * cents.parse::<i64>()?)
}

async fn a_month_longer_than_a_page_of_reads_is_streamed_whole(
    engine: Engine,
) -> anyhow::Result<()> {
    let clock = ManualClock::new();
    let gate = RenderGate::new(NonZeroUsize::MIN, Duration::from_secs(5));
    let app = spawn_app_with(engine, settings(100, gate), clock.clone()).await?;
    let (client, teller, account) = funded_account(&app, "ada@example.org", "10.00").await?;
    // 1 201 lines: more than two of the store's pages of 500.
    batch(&teller, &account, "DEPOSIT", "1.25", 700).await?;
    batch(&teller, &account, "WITHDRAWAL", "0.50", 500).await?;
    let month = month(&clock);

    let response = statement(&client, &account, &month, "application/json").await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.content_length(), None, "streamed, not built whole");
    let json: Value = response.json().await?;
    let lines = json["lines"].as_array().cloned().unwrap_or_default();
    assert_eq!(lines.len(), 1201);
    let (opening, closing) = (
        cents(&json["opening_balance"])?,
        cents(&json["closing_balance"])?,
    );
    let (credits, debits) = (
        cents(&json["total_credits"])?,
        cents(&json["total_debits"])?,
    );
    assert_eq!((opening, closing), (0, 10_00 + 700 * 1_25 - 500 * 50));
    let mut balance = opening;
    let (mut credited, mut debited) = (0, 0);
    for line in &lines {
        let amount = cents(&line["amount"])?;
        match line["direction"].as_str() {
            Some("CREDIT") => credited += amount,
            _ => debited += amount,
        }
        balance = opening + credited - debited;
        assert_eq!(cents(&line["balance_after"])?, balance, "{line}");
    }
    assert_eq!((credited, debited), (credits, debits));
    assert_eq!(balance, closing, "opening + lines = closing");

    let csv = csv_statement(&client, &account, &month).await?;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
    assert_eq!(rows.len(), 1201);
    for (row, line) in rows.iter().zip(&lines) {
        assert_eq!(row.get(0), Some(line["entry_id"].to_string().as_str()));
        assert_eq!(row.get(7), line["balance_after"]["amount"].as_str());
    }
    Ok(())
}
