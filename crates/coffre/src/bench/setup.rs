//! The benchmark's own customer and accounts.

use anyhow::Context as _;
use reqwest::Method;
use serde_json::json;

use super::client::{Call, Client};

/// What each account is credited with before the run: far more than the small transfers of a
/// run can drain, so that no transfer is refused for insufficient funds.
const DEPOSIT: &str = "1000000.00";

/// A verified customer with `count` current accounts, each funded and without a practical
/// daily limit. Returns the account ids.
pub(super) async fn accounts(
    client: &Client,
    count: usize,
    run: &str,
) -> anyhow::Result<Vec<String>> {
    let customer = client
        .expect(
            Call::write(
                Method::POST,
                "/v1/customers",
                json!({
                    "first_name": "Bench", "last_name": "Mark",
                    "email": format!("bench-{run}@example.org"), "birth_date": "1990-01-01",
                    "address": {"line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR"},
                    "password": format!("quiet ledger load {run}"),
                }),
                None,
            ),
            201,
        )
        .await?;
    let customer_id = customer["id"].as_str().context("customer id")?;
    client
        .expect(
            Call::write(
                Method::POST,
                format!("/v1/customers/{customer_id}/kyc"),
                json!({"decision": "VERIFIED"}),
                None,
            ),
            200,
        )
        .await?;
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let account = client
            .expect(
                Call::write(
                    Method::POST,
                    "/v1/accounts",
                    json!({"customer_id": customer_id, "type": "COURANT"}),
                    None,
                ),
                201,
            )
            .await?;
        let id = account["id"].as_str().context("account id")?.to_owned();
        client
            .expect(
                Call::write(
                    Method::PATCH,
                    format!("/v1/accounts/{id}"),
                    json!({"daily_limit": {"amount": "1000000000.00", "currency": "EUR"}}),
                    None,
                ),
                200,
            )
            .await?;
        client
            .expect(
                Call::write(
                    Method::POST,
                    "/v1/transactions",
                    json!({"type": "DEPOSIT", "destination_account_id": id,
                           "amount": {"amount": DEPOSIT, "currency": "EUR"}}),
                    Some(format!("bench-{run}-deposit-{n}")),
                ),
                201,
            )
            .await?;
        ids.push(id);
    }
    Ok(ids)
}
