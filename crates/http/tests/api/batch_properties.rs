//! Property of `POST /v1/transactions/batch`: whatever a batch mixes (refusals found before the
//! ledger runs, refusals by the ledger, successes), atomic or not, each result describes exactly
//! its own item, a replay under the same key answers the same, and the books match what was
//! reported.
//!
//! Each case opens three fresh accounts (two of Ada's, one of Bob's), funds them, posts a
//! generated batch as Ada or as a teller, and checks the answer against a model of the rules
//! that decide each item. Batches hold at most eight items of at most 1 000.01, so no account
//! ever reaches the default daily limit of 10 000.00: the model leaves that rule out.

use anyhow::{Context as _, ensure};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, UserClient, fresh_key};
use crate::transactions::{eur, id};

both_engines!(each_batch_result_describes_its_own_item_and_the_books_agree);

/// Generated batches per engine.
const CASES: u32 = 1000;
/// A customer's movement above this needs a recent one-time code (the default step-up policy).
const STEP_UP_THRESHOLD_CENTS: i64 = 100_000;
/// What Bob's account starts with in every case.
const BOB_START_CENTS: i64 = 10_000;
/// An IBAN of a bank that is not this one (nor a peer).
const FOREIGN_IBAN: &str = "DE89370400440532013000";
/// Ada's first and second account, and Bob's, in a case's account list.
const ACCOUNTS: usize = 3;
const BOB: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Ada,
    Teller,
}

/// Where a transfer is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    Account(usize),
    Iban(usize),
    ForeignIban,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Deposit { to: usize, cents: i64 },
    Withdrawal { from: usize, cents: i64 },
    Transfer { from: usize, to: To, cents: i64 },
}

#[derive(Debug, Clone)]
struct Case {
    caller: Caller,
    atomic: bool,
    /// What Ada's first account starts with (her second starts empty).
    ada_start_cents: i64,
    items: Vec<Item>,
}

/// What the rules say an item comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Committed,
    Refused(&'static str),
    RolledBack,
}

fn cents() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(1),
        Just(250),
        Just(4_000),
        Just(30_000),
        Just(STEP_UP_THRESHOLD_CENTS),
        Just(STEP_UP_THRESHOLD_CENTS + 1),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let account = 0..ACCOUNTS;
    prop_oneof![
        (account.clone(), cents()).prop_map(|(to, cents)| Item::Deposit { to, cents }),
        (account.clone(), cents()).prop_map(|(from, cents)| Item::Withdrawal { from, cents }),
        (account, 1..ACCOUNTS, 0..3u8, cents()).prop_map(|(from, offset, how, cents)| {
            // Never the source itself: a transfer to itself is a different refusal.
            let other = (from + offset) % ACCOUNTS;
            let to = match how {
                0 => To::Account(other),
                1 => To::Iban(other),
                _ => To::ForeignIban,
            };
            Item::Transfer { from, to, cents }
        }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(Caller::Ada), Just(Caller::Teller)],
        any::<bool>(),
        prop_oneof![Just(0), Just(5_000), Just(200_000)],
        proptest::collection::vec(item(), 1..=8),
    )
        .prop_map(|(caller, atomic, ada_start_cents, items)| Case {
            caller,
            atomic,
            ada_start_cents,
            items,
        })
}

/// The refusal found before the ledger runs, in the order the use case checks: the caller's
/// right to the movement, step-up, then the destination's address.
fn refused_before_the_ledger(caller: Caller, item: Item) -> Option<&'static str> {
    let (from, cents, to) = match item {
        Item::Deposit { .. } if caller == Caller::Ada => return Some("forbidden"),
        Item::Deposit { .. } => return None,
        Item::Withdrawal { from, cents } => (from, cents, None),
        Item::Transfer { from, to, cents } => (from, cents, Some(to)),
    };
    if caller == Caller::Ada && from == BOB {
        return Some("not_found");
    }
    if caller == Caller::Ada && cents > STEP_UP_THRESHOLD_CENTS {
        return Some("mfa_required");
    }
    (to == Some(To::ForeignIban)).then_some("validation_failed")
}

/// The ledger's verdict on an item that passed the checks, applied to `balances`.
fn ledger(balances: &mut [i64; ACCOUNTS], item: Item) -> Result<(), &'static str> {
    let (debit, credit, cents) = match item {
        Item::Deposit { to, cents } => (None, Some(to), cents),
        Item::Withdrawal { from, cents } => (Some(from), None, cents),
        Item::Transfer {
            from,
            to: To::Account(to) | To::Iban(to),
            cents,
        } => (Some(from), Some(to), cents),
        Item::Transfer {
            to: To::ForeignIban,
            ..
        } => return Err("the model never sends a foreign IBAN to the ledger"),
    };
    if let Some(from) = debit {
        // No overdraft on a new current account.
        if balances[from] < cents {
            return Err("insufficient_funds");
        }
        balances[from] -= cents;
    }
    if let Some(to) = credit {
        balances[to] += cents;
    }
    Ok(())
}

/// Each item's expected result, and the balances afterwards.
fn model(case: &Case) -> (Vec<Expected>, [i64; ACCOUNTS]) {
    let before = [case.ada_start_cents, 0, BOB_START_CENTS];
    let checked: Vec<_> = case
        .items
        .iter()
        .map(|item| refused_before_the_ledger(case.caller, *item))
        .collect();
    if case.atomic && checked.iter().any(Option::is_some) {
        let results = checked
            .iter()
            .map(|refusal| refusal.map_or(Expected::RolledBack, Expected::Refused))
            .collect();
        return (results, before);
    }
    let mut after = before;
    let mut results: Vec<_> = case
        .items
        .iter()
        .zip(&checked)
        .map(|(item, refusal)| match refusal {
            Some(code) => Expected::Refused(code),
            None => match ledger(&mut after, *item) {
                Ok(()) => Expected::Committed,
                Err(code) => Expected::Refused(code),
            },
        })
        .collect();
    let refused = results
        .iter()
        .any(|result| matches!(result, Expected::Refused(_)));
    if case.atomic && refused {
        for result in &mut results {
            if *result == Expected::Committed {
                *result = Expected::RolledBack;
            }
        }
        after = before;
    }
    (results, after)
}

fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The accounts of one case.
struct Accounts {
    ids: Vec<String>,
    ibans: Vec<String>,
}

impl Accounts {
    fn body(&self, item: Item) -> Value {
        match item {
            Item::Deposit { to, cents } => json!({"type": "DEPOSIT",
                "destination_account_id": self.ids[to], "amount": eur(&amount(cents))}),
            Item::Withdrawal { from, cents } => json!({"type": "WITHDRAWAL",
                "source_account_id": self.ids[from], "amount": eur(&amount(cents))}),
            Item::Transfer { from, to, cents } => {
                let mut body = json!({"type": "TRANSFER",
                    "source_account_id": self.ids[from], "amount": eur(&amount(cents))});
                match to {
                    To::Account(to) => body["destination_account_id"] = json!(self.ids[to]),
                    To::Iban(to) => body["destination_iban"] = json!(self.ibans[to]),
                    To::ForeignIban => body["destination_iban"] = json!(FOREIGN_IBAN),
                }
                body
            }
        }
    }

    /// What a booked transaction must say for `item`: type, amount, source, destination.
    fn booked(&self, item: Item) -> (&'static str, String, Value, Value) {
        match item {
            Item::Deposit { to, cents } => {
                ("DEPOSIT", amount(cents), Value::Null, json!(self.ids[to]))
            }
            Item::Withdrawal { from, cents } => (
                "WITHDRAWAL",
                amount(cents),
                json!(self.ids[from]),
                Value::Null,
            ),
            Item::Transfer {
                from,
                to: To::Account(to) | To::Iban(to),
                cents,
            } => (
                "TRANSFER",
                amount(cents),
                json!(self.ids[from]),
                json!(self.ids[to]),
            ),
            Item::Transfer { .. } => ("none", String::new(), Value::Null, Value::Null),
        }
    }
}

/// Who takes part in every case.
struct Fixture {
    teller: UserClient,
    ada: UserClient,
    ada_id: String,
    bob_id: String,
}

impl Fixture {
    async fn new(app: &TestApp) -> anyhow::Result<Self> {
        let (ada, ada_client) = app.verified_customer("ada@example.org").await?;
        let (bob, _) = app.verified_customer("bob@example.org").await?;
        Ok(Fixture {
            teller: app.teller().await?,
            ada: ada_client,
            ada_id: id(&ada).to_owned(),
            bob_id: id(&bob).to_owned(),
        })
    }

    async fn open(&self, customer: &str, start_cents: i64) -> anyhow::Result<(String, String)> {
        let body = json!({"customer_id": customer, "type": "COURANT"});
        let account = self.teller.open_account(&body).await?;
        let (account_id, iban) = (id(&account).to_owned(), account["iban"].to_string());
        if start_cents > 0 {
            let deposit = json!({"type": "DEPOSIT", "destination_account_id": account_id,
                "amount": eur(&amount(start_cents))});
            let response = self.teller.post_once("/v1/transactions", &deposit).await?;
            ensure!(response.status() == StatusCode::CREATED, "funding failed");
        }
        Ok((account_id, iban.trim_matches('"').to_owned()))
    }

    async fn accounts(&self, case: &Case) -> anyhow::Result<Accounts> {
        let opened = [
            self.open(&self.ada_id, case.ada_start_cents).await?,
            self.open(&self.ada_id, 0).await?,
            self.open(&self.bob_id, BOB_START_CENTS).await?,
        ];
        let (ids, ibans) = opened.into_iter().unzip();
        Ok(Accounts { ids, ibans })
    }

    async fn balance_cents(&self, account: &str) -> anyhow::Result<i64> {
        let text = self.teller.current_balance(account).await?;
        Ok(text.replace('.', "").parse()?)
    }

    /// Runs one case and checks every result against the model.
    async fn check(&self, case: &Case) -> anyhow::Result<()> {
        let accounts = self.accounts(case).await?;
        let body = json!({"atomic": case.atomic,
            "transactions": case.items.iter().map(|item| accounts.body(*item)).collect::<Vec<_>>()});
        let client = match case.caller {
            Caller::Ada => &self.ada,
            Caller::Teller => &self.teller,
        };
        let key = fresh_key();
        let response = client
            .post_with_key("/v1/transactions/batch", &body, &key)
            .await?;
        ensure!(
            response.status() == StatusCode::OK,
            "batch answered {}",
            response.status()
        );
        let first = response.bytes().await?;
        let answer: Value = serde_json::from_slice(&first)?;
        let (expected, balances) = model(case);
        check_results(&answer, &expected, case, &accounts)?;

        let replay = client
            .post_with_key("/v1/transactions/batch", &body, &key)
            .await?;
        ensure!(
            replay.headers().get("idempotency-replayed").is_some(),
            "not a replay"
        );
        ensure!(
            replay.bytes().await? == first,
            "the replay answers differently"
        );

        for (account, want) in accounts.ids.iter().zip(balances) {
            let got = self.balance_cents(account).await?;
            ensure!(
                got == want,
                "account {account}: balance {got}, model {want}"
            );
        }
        Ok(())
    }
}

fn check_results(
    answer: &Value,
    expected: &[Expected],
    case: &Case,
    accounts: &Accounts,
) -> anyhow::Result<()> {
    let results = answer["results"].as_array().context("results")?;
    ensure!(results.len() == expected.len(), "{} results", results.len());
    let refused = expected.iter().any(|e| matches!(e, Expected::Refused(_)));
    ensure!(
        answer["committed"] == json!(!(case.atomic && refused)),
        "committed flag"
    );
    for (index, ((result, want), item)) in results.iter().zip(expected).zip(&case.items).enumerate()
    {
        ensure!(result["index"] == json!(index), "item {index}: index");
        let status = result["status"].as_str().context("status")?;
        match want {
            Expected::Committed => {
                ensure!(
                    status == "COMMITTED",
                    "item {index}: {status}, model committed"
                );
                let transaction = &result["transaction"];
                let (kind, amount, source, destination) = accounts.booked(*item);
                ensure!(
                    transaction["type"] == kind
                        && transaction["amount"]["amount"] == amount.as_str()
                        && transaction["source_account_id"] == source
                        && transaction["destination_account_id"] == destination,
                    "item {index} ({item:?}) reported another transaction: {transaction}"
                );
            }
            Expected::Refused(code) => ensure!(
                status == "REFUSED" && result["error"]["code"] == *code,
                "item {index} ({item:?}): {result}, model refused with {code}"
            ),
            Expected::RolledBack => {
                ensure!(
                    status == "ROLLED_BACK",
                    "item {index}: {status}, model rolled back"
                );
            }
        }
    }
    Ok(())
}

async fn each_batch_result_describes_its_own_item_and_the_books_agree(
    app: TestApp,
) -> anyhow::Result<()> {
    let fixture = Fixture::new(&app).await?;
    let runtime = tokio::runtime::Handle::current();
    // proptest drives the cases (and shrinks a failing one); each case is async HTTP.
    tokio::task::block_in_place(|| {
        let config = Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        };
        TestRunner::new(config).run(&case(), |case| {
            runtime
                .block_on(fixture.check(&case))
                .map_err(|error| TestCaseError::fail(format!("{error:#}")))
        })
    })
    .map_err(|error| anyhow::anyhow!("{error}"))
}
