//! `/v1/audit`: the event log, its chain check and the trial balance.

use anyhow::Context as _;
use coffre_app::ports::{Ledger, LedgerBatch, LedgerOutcome};
use coffre_domain::events::Actor;
use coffre_domain::ledger::{LedgerCommand, LedgerPolicy, LedgerRequest};
use coffre_domain::{AccountId, Currency, Money};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_engines;
use crate::helpers::{ADMIN, AUDITOR, Engine, STAFF_PASSWORD, TestApp, assert_problem};

both_engines!(
    events_record_sign_up_account_opening_and_freezes,
    events_are_keyset_paginated_with_a_next_link,
    only_auditors_and_admins_read_the_audit_endpoints,
    a_fresh_log_verifies,
    the_trial_balance_sums_to_zero_after_a_deposit,
);

async fn auditor_get(app: &TestApp, path: &str) -> anyhow::Result<Value> {
    let auditor = app.login(AUDITOR, STAFF_PASSWORD).await?;
    auditor.get_ok_json(path).await
}

/// A verified customer with one open current account; returns the account.
async fn customer_with_account(app: &TestApp, email: &str) -> anyhow::Result<Value> {
    let (_, client) = app.verified_customer(email).await?;
    client.open_account(&json!({"type": "COURANT"})).await
}

fn text(value: &Value, key: &str) -> anyhow::Result<String> {
    value[key]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {key} in {value}"))
}

async fn events_record_sign_up_account_opening_and_freezes(app: TestApp) -> anyhow::Result<()> {
    let account = customer_with_account(&app, "ada@example.org").await?;
    let account_id = text(&account, "id")?;
    let teller = app.teller().await?;
    let frozen = teller
        .post(
            &format!("/v1/accounts/{account_id}/freeze"),
            &json!({"reason": "suspicious activity"}),
        )
        .await?;
    assert_eq!(frozen.status(), StatusCode::OK);

    let all = auditor_get(&app, "/v1/audit/events?limit=100").await?;
    let items = all["items"].as_array().context("items")?;
    let types: Vec<&str> = items.iter().filter_map(|e| e["type"].as_str()).collect();
    for expected in [
        "CustomerRegistered",
        "CustomerKycDecided",
        "AccountCreated",
        "AccountFrozen",
    ] {
        assert!(types.contains(&expected), "{expected} missing in {types:?}");
    }
    let sequences: Vec<i64> = items
        .iter()
        .filter_map(|e| e["sequence"].as_i64())
        .collect();
    let expected: Vec<i64> = (1..=i64::try_from(sequences.len())?).collect();
    assert_eq!(sequences, expected, "sequences start at 1 without gaps");
    assert_eq!(all["next_cursor"], Value::Null);

    let stream = auditor_get(&app, &format!("/v1/audit/events?stream={account_id}")).await?;
    let stream_items = stream["items"].as_array().context("items")?;
    let stream_types: Vec<&str> = stream_items
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(stream_types, ["AccountCreated", "AccountFrozen"]);
    let frozen_event = stream_items.get(1).context("the freeze")?;
    assert_eq!(frozen_event["stream_id"], account_id.as_str());
    assert_eq!(frozen_event["stream_version"], 2);
    assert_eq!(frozen_event["payload"]["account_id"], account_id.as_str());
    assert_eq!(frozen_event["payload"]["reason"], "suspicious activity");
    let teller_id = text(&teller.user, "id")?;
    assert_eq!(frozen_event["actor"], format!("user:{teller_id}"));
    let hash = text(frozen_event, "hash")?;
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert!(frozen_event["occurred_at"].as_str().is_some());

    let by_type = auditor_get(&app, "/v1/audit/events?type=AccountFrozen").await?;
    assert_eq!(by_type["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}

async fn events_are_keyset_paginated_with_a_next_link(app: TestApp) -> anyhow::Result<()> {
    customer_with_account(&app, "ada@example.org").await?;
    let auditor = app.login(AUDITOR, STAFF_PASSWORD).await?;
    let mut seen = Vec::new();
    let mut path = "/v1/audit/events?limit=2".to_owned();
    for _ in 0..50 {
        let response = auditor.get(&path).await?;
        assert_eq!(response.status(), StatusCode::OK);
        let link = response
            .headers()
            .get("link")
            .map(|h| h.to_str().map(str::to_owned))
            .transpose()?;
        let page: Value = response.json().await?;
        let items = page["items"].as_array().context("items")?;
        assert!(items.len() <= 2);
        seen.extend(items.iter().filter_map(|e| e["sequence"].as_i64()));
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                let link = link.context("a next page has a Link")?;
                assert!(link.contains(&format!("cursor={cursor}")), "{link}");
                assert!(link.ends_with("rel=\"next\""), "{link}");
                path = format!("/v1/audit/events?limit=2&cursor={cursor}");
            }
            None => {
                assert!(link.is_none(), "no next page, no Link");
                break;
            }
        }
    }
    let expected: Vec<i64> = (1..=i64::try_from(seen.len())?).collect();
    assert_eq!(seen, expected);
    assert!(seen.len() >= 3, "sign-up, KYC and opening at least");
    let bad = auditor.get("/v1/audit/events?cursor=nope").await?;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let too_many = auditor.get("/v1/audit/events?limit=101").await?;
    assert_problem(
        too_many,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

async fn only_auditors_and_admins_read_the_audit_endpoints(app: TestApp) -> anyhow::Result<()> {
    let (_, customer) = app.verified_customer("ada@example.org").await?;
    let teller = app.teller().await?;
    let admin = app.login(ADMIN, STAFF_PASSWORD).await?;
    for path in [
        "/v1/audit/events",
        "/v1/audit/verify",
        "/v1/audit/trial-balance",
    ] {
        assert_problem(
            customer.get(path).await?,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await?;
        assert_problem(teller.get(path).await?, StatusCode::FORBIDDEN, "forbidden").await?;
        assert_problem(
            app.anonymous().get(path).await?,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await?;
        assert_eq!(admin.get(path).await?.status(), StatusCode::OK, "{path}");
    }
    Ok(())
}

async fn a_fresh_log_verifies(app: TestApp) -> anyhow::Result<()> {
    let empty = auditor_get(&app, "/v1/audit/verify").await?;
    assert_eq!(empty, json!({"ok": true, "events_checked": 0}));
    customer_with_account(&app, "ada@example.org").await?;
    let report = auditor_get(&app, "/v1/audit/verify").await?;
    assert_eq!(report["ok"], true);
    assert!(report["events_checked"].as_i64() >= Some(3), "{report}");
    assert!(report.get("first_broken").is_none());
    Ok(())
}

/// Books a deposit straight through the engine (the transactions API is not what this tests).
async fn deposit<S: Ledger>(store: &S, account: AccountId, minor: i64) -> anyhow::Result<()> {
    let batch = LedgerBatch {
        commands: vec![LedgerCommand {
            id: Uuid::now_v7(),
            request: LedgerRequest::Deposit {
                account,
                amount: Money::from_minor(minor, Currency::EUR)?,
                label: None,
            },
        }],
        atomic: true,
        actor: Actor::System,
        now: time::OffsetDateTime::now_utc(),
        policy: LedgerPolicy::default(),
        idempotency: None,
    };
    match store.execute(vec![batch]).await?.pop() {
        Some(LedgerOutcome::Executed { results, .. }) => {
            for result in results {
                result?;
            }
            Ok(())
        }
        other => anyhow::bail!("unexpected outcome {other:?}"),
    }
}

async fn deposit_on(app: &TestApp, account: AccountId, minor: i64) -> anyhow::Result<()> {
    match app.engine {
        Engine::Sqlite => {
            let store = coffre_store_sqlite::SqliteStore::connect(&app.database_url).await?;
            deposit(&store, account, minor).await
        }
        Engine::Postgres => {
            let store = coffre_store_postgres::PostgresStore::connect(&app.database_url).await?;
            deposit(&store, account, minor).await
        }
    }
}

async fn the_trial_balance_sums_to_zero_after_a_deposit(app: TestApp) -> anyhow::Result<()> {
    let account = customer_with_account(&app, "ada@example.org").await?;
    let account_id = AccountId(text(&account, "id")?.parse()?);
    deposit_on(&app, account_id, 12_345).await?;

    let balance = auditor_get(&app, "/v1/audit/trial-balance").await?;
    let items = balance["items"].as_array().context("items")?;
    let eur = items
        .iter()
        .find(|line| line["currency"] == "EUR")
        .context("an EUR line")?;
    assert_eq!(
        eur["customer_accounts_total"],
        json!({"amount": "123.45", "currency": "EUR"})
    );
    assert_eq!(eur["total"]["amount"], "0.00");
    let cash = eur["internal_accounts"]
        .as_array()
        .context("internal accounts")?
        .iter()
        .find(|internal| internal["name"] == "cash:EUR")
        .context("cash:EUR")?;
    assert_eq!(cash["balance"]["amount"], "-123.45");
    for line in items {
        let total = line["total"]["amount"].as_str().context("total")?;
        assert!(
            total
                .trim_start_matches('-')
                .bytes()
                .all(|b| b == b'0' || b == b'.'),
            "{line}"
        );
    }
    let report = auditor_get(&app, "/v1/audit/verify").await?;
    assert_eq!(report["ok"], true);
    let deposits = auditor_get(&app, "/v1/audit/events?type=TransactionCompleted").await?;
    let postings = &deposits["items"][0]["payload"]["postings"];
    assert_eq!(postings.as_array().map(Vec::len), Some(2));
    Ok(())
}
