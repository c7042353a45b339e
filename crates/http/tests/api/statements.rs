//! Account history: statement lines with their running balance and cursor paging, and the
//! monthly statement as JSON, CSV and PDF.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::both_engines;
use crate::each_engine;
use crate::helpers::{
    CUSTOMER_PASSWORD, Engine, ManualClock, TestApp, assert_problem, spawn_app_with, test_settings,
};
use crate::holds::{deposit, funded_account, withdraw};

both_engines!(statement_lines_carry_a_running_balance_and_page_by_cursor);

/// `YYYY-MM` of an instant.
fn month_of(instant: OffsetDateTime) -> String {
    format!("{:04}-{:02}", instant.year(), u8::from(instant.month()))
}

/// `YYYY-MM-DD` of an instant.
fn day_of(instant: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        instant.year(),
        u8::from(instant.month()),
        instant.day()
    )
}

fn amounts(lines: &Value, key: &str) -> Vec<String> {
    lines
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|line| line[key]["amount"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn statement_lines_carry_a_running_balance_and_page_by_cursor(
    app: TestApp,
) -> anyhow::Result<()> {
    let (client, teller, account) = funded_account(&app, "ada@example.org", "10.00").await?;
    deposit(&teller, &account, "20.00").await?;
    deposit(&teller, &account, "30.00").await?;
    assert_eq!(
        withdraw(&client, &account, "5.00").await?.status(),
        StatusCode::CREATED
    );
    let path = format!("/v1/accounts/{account}/transactions");
    let first = client.get(&format!("{path}?limit=3")).await?;
    assert_eq!(first.status(), StatusCode::OK);
    let link = first
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let first: Value = first.json().await?;
    assert_eq!(
        amounts(&first["items"], "balance_after"),
        ["10.00", "30.00", "60.00"]
    );
    assert_eq!(first["items"][0]["type"], "DEPOSIT");
    assert_eq!(first["items"][0]["direction"], "CREDIT");
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert!(!cursor.is_empty());
    assert!(link.contains(&format!("cursor={cursor}")) && link.contains("rel=\"next\""));
    let second: Value = client
        .get(&format!("{path}?limit=3&cursor={cursor}"))
        .await?
        .json()
        .await?;
    assert_eq!(amounts(&second["items"], "balance_after"), ["55.00"]);
    assert_eq!(second["items"][0]["direction"], "DEBIT");
    assert_eq!(second["items"][0]["type"], "WITHDRAWAL");
    assert!(second["next_cursor"].is_null());
    let deposits: Value = client
        .get(&format!("{path}?type=DEPOSIT"))
        .await?
        .json()
        .await?;
    assert_eq!(
        amounts(&deposits["items"], "amount"),
        ["10.00", "20.00", "30.00"]
    );
    let today = OffsetDateTime::now_utc();
    let yesterday = day_of(today - time::Duration::days(1));
    let none: Value = client
        .get(&format!("{path}?to={yesterday}"))
        .await?
        .json()
        .await?;
    assert_eq!(none["items"], json!([]));
    let all: Value = client
        .get(&format!(
            "{path}?from={yesterday}&to={}",
            day_of(today + time::Duration::days(1))
        ))
        .await?
        .json()
        .await?;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(4));
    assert_problem(
        client.get(&format!("{path}?limit=101")).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_problem(
        client.get(&format!("{path}?from=21-11-2026")).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let (_, other) = app.verified_customer("bob@example.org").await?;
    assert_problem(other.get(&path).await?, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

each_engine!(
    a_monthly_statement_opens_where_the_last_month_closed,
    the_statement_is_served_as_csv_and_pdf,
);

async fn a_monthly_statement_opens_where_the_last_month_closed(
    engine: Engine,
) -> anyhow::Result<()> {
    let clock = ManualClock::new();
    let app = spawn_app_with(engine, test_settings(), clock.clone()).await?;
    let (_, _, account) = funded_account(&app, "ada@example.org", "100.00").await?;
    let first_month = month_of(coffre_app::ports::Clock::now(&clock));
    clock.advance(time::Duration::days(32));
    let second_month = month_of(coffre_app::ports::Clock::now(&clock));
    // Sessions end after 15 idle minutes: log in again after the jump.
    let client = app.login("ada@example.org", CUSTOMER_PASSWORD).await?;
    let teller = app.teller().await?;
    deposit(&teller, &account, "25.50").await?;
    assert_eq!(
        withdraw(&client, &account, "10.00").await?.status(),
        StatusCode::CREATED
    );
    let path = format!("/v1/accounts/{account}/statement");
    let statement: Value = client
        .get(&format!("{path}?month={second_month}"))
        .await?
        .json()
        .await?;
    assert_eq!(statement["month"], second_month.as_str());
    assert_eq!(statement["account_id"], account.as_str());
    assert_eq!(statement["currency"], "EUR");
    assert!(
        statement["iban"]
            .as_str()
            .is_some_and(|i| i.starts_with("FR76"))
    );
    assert_eq!(statement["opening_balance"]["amount"], "100.00");
    assert_eq!(statement["closing_balance"]["amount"], "115.50");
    assert_eq!(statement["total_credits"]["amount"], "25.50");
    assert_eq!(statement["total_debits"]["amount"], "10.00");
    assert_eq!(
        amounts(&statement["lines"], "balance_after"),
        ["125.50", "115.50"]
    );
    let earlier: Value = client
        .get(&format!("{path}?month={first_month}"))
        .await?
        .json()
        .await?;
    assert_eq!(earlier["opening_balance"]["amount"], "0.00");
    assert_eq!(earlier["closing_balance"]["amount"], "100.00");
    assert_eq!(earlier["lines"].as_array().map(Vec::len), Some(1));
    assert_problem(
        client.get(&format!("{path}?month=2026-13")).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

async fn the_statement_is_served_as_csv_and_pdf(engine: Engine) -> anyhow::Result<()> {
    let clock = ManualClock::new();
    let app = spawn_app_with(engine, test_settings(), clock.clone()).await?;
    let (client, teller, account) = funded_account(&app, "ada@example.org", "1.00").await?;
    for _ in 0..44 {
        deposit(&teller, &account, "1.25").await?;
    }
    let month = month_of(coffre_app::ports::Clock::now(&clock));
    let path = format!("/v1/accounts/{account}/statement?month={month}");
    let json: Value = client.get(&path).await?.json().await?;
    assert_eq!(json["lines"].as_array().map(Vec::len), Some(45));
    assert_eq!(json["closing_balance"]["amount"], "56.00");

    let csv = client
        .request(reqwest::Method::GET, &path)
        .header("Accept", "text/csv")
        .send()
        .await?;
    assert_eq!(csv.status(), StatusCode::OK);
    let content_type = csv
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let text = csv.text().await?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        [
            "entry_id",
            "booked_at",
            "transaction_id",
            "type",
            "label",
            "direction",
            "amount",
            "balance_after"
        ]
    );
    let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
    assert_eq!(rows.len(), 45);
    for (row, line) in rows
        .iter()
        .zip(json["lines"].as_array().into_iter().flatten())
    {
        assert_eq!(row.get(2), line["transaction_id"].as_str());
        assert_eq!(row.get(3), line["type"].as_str());
        assert_eq!(row.get(5), line["direction"].as_str());
        assert_eq!(row.get(6), line["amount"]["amount"].as_str());
        assert_eq!(row.get(7), line["balance_after"]["amount"].as_str());
    }

    let pdf = client
        .request(reqwest::Method::GET, &path)
        .header("Accept", "application/pdf")
        .send()
        .await?;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(
        pdf.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let bytes = pdf.bytes().await?;
    assert!(bytes.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("/Count 2"), "45 lines make two pages of 40");
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert_eq!(pages, 2);
    Ok(())
}
