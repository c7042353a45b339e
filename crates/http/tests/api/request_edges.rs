//! The edges of a request the probe tried: ids spelled other than canonically, months out of
//! any sane range, header bytes that are not text.

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::both_engines;
use crate::helpers::{TestApp, assert_problem, fresh_key};
use crate::holds::post_once;
use crate::transactions::{customer_with, deposit, eur, id};

both_engines!(
    an_id_is_found_only_in_its_canonical_form,
    a_statement_month_is_within_the_documented_years,
    header_bytes_that_are_not_text_are_a_problem,
);

/// The spellings of `id` that `uuid` parses but Coffre never writes.
fn other_spellings(id: &str) -> [String; 4] {
    [
        id.to_uppercase(),
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
        id.replace('-', ""),
    ]
}

async fn an_id_is_found_only_in_its_canonical_form(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (ada, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let transaction = deposit(&teller, &account, "10.00").await?;
    let hold_path = format!("/v1/accounts/{}/holds", id(&account));
    let hold: Value = post_once(
        &ada,
        &hold_path,
        &serde_json::json!({"amount": eur("1.00")}),
    )
    .await?
    .json()
    .await?;
    let customer_id = account["customer_id"].as_str().context("customer_id")?;
    let resources = [
        ("/v1/accounts/", id(&account), ""),
        ("/v1/accounts/", id(&account), "/balance"),
        ("/v1/accounts/", id(&account), "/transactions"),
        ("/v1/accounts/", id(&account), "/statement?month=2026-01"),
        ("/v1/customers/", customer_id, ""),
        ("/v1/transactions/", id(&transaction), ""),
        ("/v1/holds/", id(&hold), ""),
    ];
    for (prefix, canonical, suffix) in resources {
        let found = teller.get(&format!("{prefix}{canonical}{suffix}")).await?;
        assert_eq!(
            found.status(),
            StatusCode::OK,
            "{prefix}{canonical}{suffix}"
        );
        for other in other_spellings(canonical) {
            let path = format!("{prefix}{other}{suffix}");
            assert_problem(teller.get(&path).await?, StatusCode::NOT_FOUND, "not_found")
                .await
                .with_context(|| path.clone())?;
        }
    }
    // A write with a non-canonical id changes nothing.
    for other in other_spellings(id(&account)) {
        let path = format!("/v1/accounts/{other}/freeze");
        let response = teller
            .post(&path, &serde_json::json!({"reason": "probe"}))
            .await?;
        assert_problem(response, StatusCode::NOT_FOUND, "not_found")
            .await
            .with_context(|| path.clone())?;
    }
    let account_now = teller
        .get_ok_json(&format!("/v1/accounts/{}", id(&account)))
        .await?;
    assert_eq!(account_now["status"], "ACTIVE");
    Ok(())
}

async fn a_statement_month_is_within_the_documented_years(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (_, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let path = format!("/v1/accounts/{}/statement", id(&account));
    for month in ["1970-01", "2999-12"] {
        let response = teller.get(&format!("{path}?month={month}")).await?;
        assert_eq!(response.status(), StatusCode::OK, "{month}");
    }
    for month in ["0000-01", "1969-12", "3000-01", "9999-12"] {
        let problem = assert_problem(
            teller.get(&format!("{path}?month={month}")).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await
        .with_context(|| month.to_owned())?;
        assert_eq!(problem["errors"][0]["field"], "month", "{month}");
    }
    Ok(())
}

/// A header byte HTTP allows on the wire (obs-text, 0x80 to 0xFF) but that is not text reaches
/// Coffre's extractors, which answer problem+json. (Bytes HTTP forbids, such as DEL or an
/// obs-fold line, are refused by the HTTP parser before any route runs: see ADR 0017.)
async fn header_bytes_that_are_not_text_are_a_problem(app: TestApp) -> anyhow::Result<()> {
    let teller = app.teller().await?;
    let (_, account) = customer_with(&app, "ada@example.org", "COURANT").await?;
    let body = serde_json::json!({"type": "DEPOSIT", "destination_account_id": id(&account),
        "amount": eur("1.00")});
    let not_text = reqwest::header::HeaderValue::from_bytes(b"caf\xe9-key")?;
    let response = teller
        .request(Method::POST, "/v1/transactions")
        .header("Idempotency-Key", not_text.clone())
        .json(&body)
        .send()
        .await?;
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_request").await?;
    let response = teller
        .request(Method::POST, "/v1/transactions")
        .header("Idempotency-Key", fresh_key())
        .header("content-type", not_text)
        .body(body.to_string())
        .send()
        .await?;
    assert_problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    assert_eq!(
        teller
            .get_ok_json(&format!("/v1/accounts/{}/balance", id(&account)))
            .await?["current"]["amount"],
        "0.00"
    );
    Ok(())
}
