//! `/v1/accounts`.

use coffre_domain::Iban;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{AUDITOR, STAFF_PASSWORD, TestApp, UserClient, assert_problem};

both_engines!(
    an_account_opens_with_a_valid_french_iban_location_and_etag,
    accounts_wait_for_kyc_and_rejected_customers_get_none,
    staff_must_say_whose_account_and_customers_only_open_their_own,
    a_customer_holds_one_open_livret_a_in_euros,
    customers_list_only_their_own_accounts_and_staff_filter_all,
    a_nickname_change_honours_if_match_and_a_stale_one_changes_nothing,
    only_tellers_set_overdraft_limits_and_only_on_current_accounts,
    put_replaces_the_changeable_fields,
    closing_needs_a_zero_balance_and_keeps_the_account,
    tellers_freeze_and_unfreeze_with_a_reason,
    another_customers_account_is_404_everywhere,
    the_balance_is_zero_until_money_moves,
);

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap_or_default()
}

async fn open_for(
    app: &TestApp,
    email: &str,
    body: Value,
) -> anyhow::Result<(Value, UserClient, Value)> {
    let (customer, client) = app.verified_customer(email).await?;
    let account = client.open_account(&body).await?;
    Ok((customer, client, account))
}

async fn an_account_opens_with_a_valid_french_iban_location_and_etag(
    app: TestApp,
) -> anyhow::Result<()> {
    let (customer, client) = app.verified_customer("ada@example.org").await?;
    let response = client
        .post(
            "/v1/accounts",
            &json!({"type": "COURANT", "nickname": "Daily"}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"].to_str()?.to_owned();
    let account: Value = response.json().await?;
    assert_eq!(location, format!("/v1/accounts/{}", id(&account)));
    assert_eq!(account["customer_id"], customer["id"]);
    assert_eq!(account["status"], "ACTIVE");
    assert_eq!(account["currency"], "EUR");
    assert_eq!(account["nickname"], "Daily");
    assert_eq!(account["bic"], "COFRFRPPXXX");
    assert_eq!(
        account["balance"],
        json!({"current": {"amount": "0.00", "currency": "EUR"}, "available": {"amount": "0.00", "currency": "EUR"}})
    );
    let iban = account["iban"].as_str().unwrap_or_default();
    assert!(
        iban.starts_with("FR") && iban[4..].starts_with("9999900001"),
        "{iban}"
    );
    assert!(Iban::parse(iban).is_ok(), "{iban}");
    Ok(())
}

async fn accounts_wait_for_kyc_and_rejected_customers_get_none(app: TestApp) -> anyhow::Result<()> {
    let pending = app.sign_up("ada@example.org").await?;
    let client = app
        .login("ada@example.org", crate::helpers::CUSTOMER_PASSWORD)
        .await?;
    let account = client.open_account(&json!({"type": "EPARGNE"})).await?;
    assert_eq!(account["status"], "PENDING_KYC");
    let rejected = app.sign_up("bob@example.org").await?;
    let teller = app.teller().await?;
    teller
        .post(
            &format!("/v1/customers/{}/kyc", id(&rejected)),
            &json!({"decision": "REJECTED"}),
        )
        .await?;
    let response = teller
        .post(
            "/v1/accounts",
            &json!({"customer_id": rejected["id"], "type": "COURANT"}),
        )
        .await?;
    assert_problem(response, StatusCode::CONFLICT, "conflict").await?;
    assert_eq!(app.count("accounts").await?, 1);
    let _ = pending;
    Ok(())
}

async fn staff_must_say_whose_account_and_customers_only_open_their_own(
    app: TestApp,
) -> anyhow::Result<()> {
    let (ada, ada_client) = app.verified_customer("ada@example.org").await?;
    let (bob, _) = app.verified_customer("bob@example.org").await?;
    let teller = app.teller().await?;
    let response = teller
        .post("/v1/accounts", &json!({"type": "COURANT"}))
        .await?;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "customer_id");
    let opened = teller
        .open_account(&json!({"customer_id": ada["id"], "type": "COURANT"}))
        .await?;
    assert_eq!(opened["customer_id"], ada["id"]);
    let for_bob = ada_client
        .post(
            "/v1/accounts",
            &json!({"customer_id": bob["id"], "type": "COURANT"}),
        )
        .await?;
    assert_problem(for_bob, StatusCode::NOT_FOUND, "not_found").await?;
    let auditor = app.login(AUDITOR, STAFF_PASSWORD).await?;
    let by_auditor = auditor
        .post(
            "/v1/accounts",
            &json!({"customer_id": ada["id"], "type": "COURANT"}),
        )
        .await?;
    assert_problem(by_auditor, StatusCode::FORBIDDEN, "forbidden").await?;
    let unknown = teller
        .post(
            "/v1/accounts",
            &json!({"customer_id": uuid::Uuid::now_v7(), "type": "COURANT"}),
        )
        .await?;
    assert_problem(unknown, StatusCode::NOT_FOUND, "not_found").await?;
    assert_eq!(app.count("accounts").await?, 1);
    Ok(())
}

async fn a_customer_holds_one_open_livret_a_in_euros(app: TestApp) -> anyhow::Result<()> {
    let (_, client, livret) =
        open_for(&app, "ada@example.org", json!({"type": "LIVRET_A"})).await?;
    let second = client
        .post("/v1/accounts", &json!({"type": "LIVRET_A"}))
        .await?;
    assert_problem(second, StatusCode::CONFLICT, "conflict").await?;
    let in_dollars = client
        .post(
            "/v1/accounts",
            &json!({"type": "LIVRET_A", "currency": "USD"}),
        )
        .await?;
    assert_problem(
        in_dollars,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let closed = client
        .delete(&format!("/v1/accounts/{}", id(&livret)))
        .await?;
    assert_eq!(closed.status(), StatusCode::OK);
    let after_close = client
        .post("/v1/accounts", &json!({"type": "LIVRET_A"}))
        .await?;
    assert_eq!(after_close.status(), StatusCode::CREATED);
    Ok(())
}

async fn customers_list_only_their_own_accounts_and_staff_filter_all(
    app: TestApp,
) -> anyhow::Result<()> {
    let (ada, ada_client, _) =
        open_for(&app, "ada@example.org", json!({"type": "COURANT"})).await?;
    ada_client
        .open_account(&json!({"type": "EPARGNE", "currency": "USD"}))
        .await?;
    let (bob, _, _) = open_for(&app, "bob@example.org", json!({"type": "COURANT"})).await?;
    let own: Value = ada_client.get("/v1/accounts").await?.json().await?;
    assert_eq!(own["total"], 2);
    assert!(
        own["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|a| a["customer_id"] == ada["id"])
    );
    let asking_for_bob: Value = ada_client
        .get(&format!("/v1/accounts?customer_id={}", id(&bob)))
        .await?
        .json()
        .await?;
    assert_eq!(asking_for_bob["total"], 0);

    let teller = app.teller().await?;
    let courant = teller
        .get("/v1/accounts?page=1&limit=1&type=COURANT")
        .await?;
    let link = courant.headers()["link"].to_str()?.to_owned();
    assert!(
        link.contains("type=COURANT") && link.contains("rel=\"next\""),
        "{link}"
    );
    let courant: Value = courant.json().await?;
    assert_eq!(courant["total"], 2);
    assert_eq!(
        courant["items"][0]["customer_id"], bob["id"],
        "newest first"
    );
    let bobs: Value = teller
        .get(&format!("/v1/accounts?customer_id={}", id(&bob)))
        .await?
        .json()
        .await?;
    assert_eq!(bobs["total"], 1);
    let active: Value = teller
        .get("/v1/accounts?status=ACTIVE")
        .await?
        .json()
        .await?;
    assert_eq!(active["total"], 3);
    let bad = teller.get("/v1/accounts?type=CHECKING").await?;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    Ok(())
}

async fn a_nickname_change_honours_if_match_and_a_stale_one_changes_nothing(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, client, account) =
        open_for(&app, "ada@example.org", json!({"type": "COURANT"})).await?;
    let path = format!("/v1/accounts/{}", id(&account));
    let renamed = client
        .patch(&path, &json!({"nickname": "Rent"}), Some("\"1\""))
        .await?;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(renamed.headers()["etag"], "\"2\"");
    let stale = client
        .patch(&path, &json!({"nickname": "Holidays"}), Some("\"1\""))
        .await?;
    assert_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await?;
    let current = client.get(&path).await?;
    assert_eq!(
        current.headers()["etag"],
        "\"2\"",
        "a refused update changes no version"
    );
    let current: Value = current.json().await?;
    assert_eq!(current["nickname"], "Rent");
    let cleared: Value = client
        .patch(&path, &json!({"nickname": null}), Some("*"))
        .await?
        .json()
        .await?;
    assert_eq!(cleared["nickname"], Value::Null);
    let too_long = client
        .patch(&path, &json!({"nickname": "x".repeat(65)}), None)
        .await?;
    assert_problem(
        too_long,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let teller = app.teller().await?;
    let by_teller = teller
        .patch(&path, &json!({"nickname": "Teller's choice"}), None)
        .await?;
    assert_problem(by_teller, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}

async fn only_tellers_set_overdraft_limits_and_only_on_current_accounts(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, client, account) =
        open_for(&app, "ada@example.org", json!({"type": "COURANT"})).await?;
    let path = format!("/v1/accounts/{}", id(&account));
    let limit = json!({"overdraft_limit": {"amount": "500.00", "currency": "EUR"}});
    assert_problem(
        client.patch(&path, &limit, None).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let teller = app.teller().await?;
    let set: Value = teller.patch(&path, &limit, None).await?.json().await?;
    assert_eq!(
        set["overdraft_limit"],
        json!({"amount": "500.00", "currency": "EUR"})
    );
    let dollars = json!({"overdraft_limit": {"amount": "500.00", "currency": "USD"}});
    assert_problem(
        teller.patch(&path, &dollars, None).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "currency_mismatch",
    )
    .await?;
    let savings = client.open_account(&json!({"type": "EPARGNE"})).await?;
    let savings_path = format!("/v1/accounts/{}", id(&savings));
    let refused = teller.patch(&savings_path, &limit, None).await?;
    let problem = assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(problem["errors"][0]["field"], "overdraft_limit");
    Ok(())
}

async fn put_replaces_the_changeable_fields(app: TestApp) -> anyhow::Result<()> {
    let (_, client, account) =
        open_for(&app, "ada@example.org", json!({"type": "COURANT"})).await?;
    let path = format!("/v1/accounts/{}", id(&account));
    let missing = client.put(&path, &json!({"nickname": "Rent"})).await?;
    assert_problem(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let body =
        json!({"nickname": "Rent", "overdraft_limit": {"amount": "0.00", "currency": "EUR"}});
    let replaced: Value = client.put(&path, &body).await?.json().await?;
    assert_eq!(replaced["nickname"], "Rent");
    let raise =
        json!({"nickname": "Rent", "overdraft_limit": {"amount": "10.00", "currency": "EUR"}});
    assert_problem(
        client.put(&path, &raise).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    Ok(())
}

async fn closing_needs_a_zero_balance_and_keeps_the_account(app: TestApp) -> anyhow::Result<()> {
    let (_, client, account) =
        open_for(&app, "ada@example.org", json!({"type": "COURANT"})).await?;
    let path = format!("/v1/accounts/{}", id(&account));
    // Until the ledger lands, a balance can only be set directly in the database.
    app.execute(&format!(
        "UPDATE accounts SET balance_minor = 1250 WHERE iban = '{}'",
        account["iban"].as_str().unwrap_or_default()
    ))
    .await?;
    let refused = client.delete(&path).await?;
    assert_problem(refused, StatusCode::CONFLICT, "account_not_empty").await?;
    let still_open = client.get(&path).await?;
    assert_eq!(
        still_open.headers()["etag"],
        "\"1\"",
        "a refused close changes no version"
    );
    let still_open: Value = still_open.json().await?;
    assert_eq!(still_open["status"], "ACTIVE");
    assert_eq!(still_open["balance"]["current"]["amount"], "12.50");
    app.execute(&format!(
        "UPDATE accounts SET balance_minor = 0 WHERE iban = '{}'",
        account["iban"].as_str().unwrap_or_default()
    ))
    .await?;
    let stale = client
        .request(reqwest::Method::DELETE, &path)
        .header("If-Match", "\"7\"")
        .send()
        .await?;
    assert_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await?;
    let closed: Value = client.delete(&path).await?.json().await?;
    assert_eq!(closed["status"], "CLOSED");
    assert!(closed["closed_at"].is_string());
    let kept: Value = client.get(&path).await?.json().await?;
    assert_eq!(kept["status"], "CLOSED");
    assert_problem(
        client.delete(&path).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "account_closed",
    )
    .await?;
    Ok(())
}

async fn tellers_freeze_and_unfreeze_with_a_reason(app: TestApp) -> anyhow::Result<()> {
    let (_, client, account) =
        open_for(&app, "ada@example.org", json!({"type": "COURANT"})).await?;
    let base = format!("/v1/accounts/{}", id(&account));
    let reason = json!({"reason": "suspicious activity"});
    let by_owner = client.post(&format!("{base}/freeze"), &reason).await?;
    assert_problem(by_owner, StatusCode::FORBIDDEN, "forbidden").await?;
    let teller = app.teller().await?;
    let no_reason = teller
        .post(&format!("{base}/freeze"), &json!({"reason": ""}))
        .await?;
    assert_problem(
        no_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let frozen: Value = teller
        .post(&format!("{base}/freeze"), &reason)
        .await?
        .json()
        .await?;
    assert_eq!(frozen["status"], "FROZEN");
    assert_eq!(frozen["status_reason"], "suspicious activity");
    let twice = teller.post(&format!("{base}/freeze"), &reason).await?;
    assert_problem(twice, StatusCode::CONFLICT, "conflict").await?;
    assert_problem(
        client.delete(&base).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "account_frozen",
    )
    .await?;
    let admin = app.login(crate::helpers::ADMIN, STAFF_PASSWORD).await?;
    let thawed: Value = admin
        .post(&format!("{base}/unfreeze"), &json!({"reason": "cleared"}))
        .await?
        .json()
        .await?;
    assert_eq!(thawed["status"], "ACTIVE");
    Ok(())
}

async fn another_customers_account_is_404_everywhere(app: TestApp) -> anyhow::Result<()> {
    let (_, _, bobs) = open_for(&app, "bob@example.org", json!({"type": "COURANT"})).await?;
    let (_, ada, _) = open_for(&app, "ada@example.org", json!({"type": "COURANT"})).await?;
    let path = format!("/v1/accounts/{}", id(&bobs));
    assert_problem(ada.get(&path).await?, StatusCode::NOT_FOUND, "not_found").await?;
    assert_problem(
        ada.get(&format!("{path}/balance")).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        ada.patch(&path, &json!({"nickname": "mine"}), None).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(ada.delete(&path).await?, StatusCode::NOT_FOUND, "not_found").await?;
    let put = json!({"nickname": "mine", "overdraft_limit": {"amount": "0.00", "currency": "EUR"}});
    assert_problem(
        ada.put(&path, &put).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        ada.post(&format!("{path}/unfreeze"), &json!({"reason": "x"}))
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        ada.post(&format!("{path}/freeze"), &json!({"reason": "x"}))
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        ada.get("/v1/accounts/not-a-uuid").await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let untouched: Value = app.teller().await?.get(&path).await?.json().await?;
    assert_eq!(
        (untouched["status"].as_str(), untouched["nickname"].as_str()),
        (Some("ACTIVE"), None)
    );
    Ok(())
}

async fn the_balance_is_zero_until_money_moves(app: TestApp) -> anyhow::Result<()> {
    let (_, client, account) = open_for(
        &app,
        "ada@example.org",
        json!({"type": "COURANT", "currency": "JPY"}),
    )
    .await?;
    let balance: Value = client
        .get(&format!("/v1/accounts/{}/balance", id(&account)))
        .await?
        .json()
        .await?;
    let zero = json!({"amount": "0", "currency": "JPY"});
    assert_eq!(
        balance,
        json!({"current": zero, "available": zero, "pending_holds": zero})
    );
    Ok(())
}
