//! The read cache: a read that follows a write on the same node never sees the old value,
//! even while another client keeps reading the same account (each of its reads may race a
//! write and try to put the old value back in the cache).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{CUSTOMER_PASSWORD, TestApp, UserClient};
use crate::holds::{deposit, funded_account};

both_engines!(a_read_after_a_write_on_the_same_node_never_sees_the_old_value);

const ROUNDS: u32 = 1_000;

/// Every tenth round renames the account instead of depositing.
const RENAME_EVERY: u32 = 10;

/// The statement-lines page size when the client names none.
const DEFAULT_PAGE: usize = 20;

/// `minor` cents as the API writes an EUR amount.
fn euros(minor: u32) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// Reads the account, its balance and its first page of lines until told to stop.
async fn keep_reading(
    client: UserClient,
    account: String,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<u64> {
    let mut reads = 0;
    while !stop.load(Ordering::Relaxed) {
        client
            .get_ok_json(&format!("/v1/accounts/{account}"))
            .await?;
        client
            .get_ok_json(&format!("/v1/accounts/{account}/transactions"))
            .await?;
        reads += 2;
    }
    Ok(reads)
}

async fn a_read_after_a_write_on_the_same_node_never_sees_the_old_value(
    app: TestApp,
) -> anyhow::Result<()> {
    let email = "ada@example.org";
    let (client, teller, account) = funded_account(&app, email, "0.00").await?;
    let stop = Arc::new(AtomicBool::new(false));
    let other_reader = app.login(email, CUSTOMER_PASSWORD).await?;
    let reader = tokio::spawn(keep_reading(other_reader, account.clone(), stop.clone()));
    let checked = write_then_read(&client, &teller, &account).await;
    stop.store(true, Ordering::Relaxed);
    let reads = reader.await??;
    checked?;
    // The race the cache guards against only happens if the other reader was really busy.
    assert!(
        reads >= u64::from(ROUNDS),
        "the other reader read only {reads} times"
    );
    Ok(())
}

/// Each round writes (a deposit of 0.01, or a new nickname), then reads the account, its
/// balance and its first page of lines, which must all show the write.
async fn write_then_read(
    client: &UserClient,
    teller: &UserClient,
    account: &str,
) -> anyhow::Result<()> {
    let account_path = format!("/v1/accounts/{account}");
    let mut deposits: u32 = 0;
    let mut nickname = Value::Null;
    for round in 1..=ROUNDS {
        if round % RENAME_EVERY == 0 {
            nickname = json!(format!("round {round}"));
            let response = client
                .patch(&account_path, &json!({"nickname": nickname}), None)
                .await?;
            anyhow::ensure!(
                response.status() == StatusCode::OK,
                "rename: {}",
                response.status()
            );
        } else {
            deposit(teller, account, "0.01").await?;
            deposits += 1;
        }
        let expected = euros(deposits);
        let shown = client.get_ok_json(&account_path).await?;
        assert_eq!(
            shown["balance"]["current"]["amount"],
            json!(expected),
            "round {round}: {shown}"
        );
        assert_eq!(shown["nickname"], nickname, "round {round}: {shown}");
        let balance = client
            .get_ok_json(&format!("{account_path}/balance"))
            .await?;
        assert_eq!(
            balance["current"]["amount"],
            json!(expected),
            "round {round}: {balance}"
        );
        let lines = client
            .get_ok_json(&format!("{account_path}/transactions"))
            .await?;
        let items = lines["items"].as_array().context("items")?;
        let booked = usize::try_from(deposits)?;
        assert_eq!(
            items.len(),
            booked.min(DEFAULT_PAGE),
            "round {round}: {lines}"
        );
        assert_eq!(
            lines["next_cursor"].is_null(),
            booked <= DEFAULT_PAGE,
            "round {round}: {lines}"
        );
        if booked <= DEFAULT_PAGE && booked > 0 {
            assert_eq!(
                items[booked - 1]["balance_after"]["amount"],
                json!(expected)
            );
        }
    }
    Ok(())
}
