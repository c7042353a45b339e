//! Invariants under concurrent requests, on both engines.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, statuses_of_all};

both_engines!(
    concurrent_livret_a_openings_leave_exactly_one,
    concurrent_updates_with_the_same_etag_let_exactly_one_win,
);

const CLIENTS: usize = 16;

async fn concurrent_livret_a_openings_leave_exactly_one(app: TestApp) -> anyhow::Result<()> {
    let (_, client) = app.verified_customer("ada@example.org").await?;
    let body = json!({"type": "LIVRET_A"});
    let attempts = (0..CLIENTS).map(|_| client.post("/v1/accounts", &body));
    let statuses: Vec<StatusCode> = statuses_of_all(attempts).await?;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, CLIENTS - 1), "{statuses:?}");
    assert_eq!(app.count("accounts").await?, 1);
    Ok(())
}

async fn concurrent_updates_with_the_same_etag_let_exactly_one_win(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, client) = app.verified_customer("ada@example.org").await?;
    let account = client.open_account(&json!({"type": "COURANT"})).await?;
    let path = format!(
        "/v1/accounts/{}",
        account["id"].as_str().unwrap_or_default()
    );
    let bodies: Vec<Value> = (0..CLIENTS)
        .map(|n| json!({"nickname": format!("name {n}")}))
        .collect();
    let attempts = bodies
        .iter()
        .map(|body| client.patch(&path, body, Some("\"1\"")));
    let statuses = statuses_of_all(attempts).await?;
    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let lost = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((won, lost), (1, CLIENTS - 1), "{statuses:?}");
    let current: Value = client.get(&path).await?.json().await?;
    assert_eq!(
        current["nickname"].as_str().map(|n| n.starts_with("name ")),
        Some(true)
    );
    Ok(())
}
