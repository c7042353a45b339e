//! Valid domain values for the contract tests, unique within a test process.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use coffre_app::ports::{
    BatchResults, Ledger, LedgerBatch, LedgerOutcome, Storage, StoreError, UserRecord,
};
use coffre_domain::events::Actor;
use coffre_domain::ledger::{Applied, LedgerCommand, LedgerError, LedgerPolicy, LedgerRequest};
use coffre_domain::{
    Account, AccountId, AccountStatus, AccountType, Address, Bic, Currency, Customer, CustomerId,
    Email, FrenchRib, KycStatus, Money, PersonName, Role, UserId, Username,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Makes e-mail addresses, usernames and IBANs unique across the tests of one process.
static SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// A number never handed out before in this process.
pub fn unique_number() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// Now, at the precision both engines keep (microseconds), so that values round-trip exactly.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().truncate_to_microsecond()
}

/// The error a test closure returns, to check that the store hands it back untouched.
#[derive(Debug)]
pub enum ClosureError {
    /// The store failed.
    Store(StoreError),
    /// The closure refused the change.
    Refused,
}

impl From<StoreError> for ClosureError {
    fn from(error: StoreError) -> Self {
        ClosureError::Store(error)
    }
}

/// A `PENDING` customer with a unique e-mail address built from the names.
pub fn customer(first_name: &str, last_name: &str) -> anyhow::Result<Customer> {
    let now = now();
    // Usernames are ASCII, and a customer's username is their e-mail address.
    let ascii = |name: &str| {
        name.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    };
    let email = format!(
        "{}.{}.{}@example.org",
        ascii(first_name),
        ascii(last_name),
        unique_number()
    );
    Ok(Customer {
        id: CustomerId(Uuid::now_v7()),
        first_name: PersonName::parse(first_name, "first_name")?,
        last_name: PersonName::parse(last_name, "last_name")?,
        email: Email::parse(&email)?,
        birth_date: time::macros::date!(1990 - 12 - 10),
        address: Address::parse(
            "1 rue de Rivoli",
            Some("Bâtiment B"),
            "75001",
            "Paris",
            "FR",
        )?,
        kyc_status: KycStatus::Pending,
        kyc_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// The login of a customer: their e-mail address as username.
pub fn customer_user(customer: &Customer) -> anyhow::Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(Uuid::now_v7()),
        username: Username::parse(customer.email.as_str())?,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        role: Role::Customer,
        customer_id: Some(customer.id),
        created_at: customer.created_at,
    })
}

/// A staff login with the given username.
pub fn staff_user(username: &str, role: Role) -> anyhow::Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(Uuid::now_v7()),
        username: Username::parse(username)?,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c3RhZmZzYWx0$c3RhZmZoYXNo".to_owned(),
        role,
        customer_id: None,
        created_at: now(),
    })
}

/// Inserts a fresh customer (and their login) and returns it.
pub async fn insert_customer<S: Storage>(
    store: &S,
    first_name: &str,
    last_name: &str,
) -> anyhow::Result<Customer> {
    let customer = customer(first_name, last_name)?;
    store
        .insert_customer(&customer, &customer_user(&customer)?, ACTOR)
        .await
        .context("failed to insert a fixture customer")?;
    Ok(customer)
}

/// A French IBAN never handed out before in this process.
pub fn unique_iban() -> anyhow::Result<coffre_domain::Iban> {
    let account_number = format!("{:011}", unique_number());
    Ok(FrenchRib::new("99999", "00001", &account_number)?.to_iban())
}

/// An account of `customer_id`, as a store would be asked to insert it, with every optional
/// field set so that round trips cover them. A `CLOSED` account has its closing time.
pub fn account(
    customer_id: CustomerId,
    account_type: AccountType,
    status: AccountStatus,
) -> anyhow::Result<Account> {
    let now = now();
    Ok(Account {
        id: AccountId(Uuid::now_v7()),
        customer_id,
        iban: unique_iban()?,
        bic: Bic::parse("COFRFRPPXXX")?,
        account_type,
        status,
        currency: Currency::EUR,
        nickname: Some("Vacances".to_owned()),
        status_reason: None,
        balance_minor: 0,
        overdraft_limit_minor: 0,
        daily_limit_minor: None,
        outgoing_today_minor: 0,
        outgoing_day: None,
        version: 1,
        created_at: now - Duration::seconds(1),
        updated_at: now,
        closed_at: (status == AccountStatus::Closed).then_some(now),
    })
}

/// Inserts an account of the given type and status for `customer_id` and returns it.
pub async fn insert_account<S: Storage>(
    store: &S,
    customer_id: CustomerId,
    account_type: AccountType,
    status: AccountStatus,
) -> anyhow::Result<Account> {
    let account = account(customer_id, account_type, status)?;
    let inserted = store
        .insert_account(customer_id, ACTOR, move |_: &Customer| {
            Ok::<_, StoreError>(account)
        })
        .await
        .context("failed to insert a fixture account")?;
    Ok(inserted)
}

/// Who the contract tests' writes are attributed to.
pub const ACTOR: Actor = Actor::System;

/// An amount in euros, from minor units.
pub fn eur(minor: i64) -> anyhow::Result<Money> {
    Ok(Money::from_minor(minor, Currency::EUR)?)
}

/// A batch of `requests` at `now`, without idempotency key.
pub fn batch(requests: Vec<LedgerRequest>, atomic: bool) -> LedgerBatch {
    LedgerBatch {
        commands: requests
            .into_iter()
            .map(|request| LedgerCommand {
                id: Uuid::now_v7(),
                request,
            })
            .collect(),
        atomic,
        actor: ACTOR,
        now: now(),
        policy: LedgerPolicy::default(),
        idempotency: None,
    }
}

/// The results of an executed batch (an error for a replay or a reused key).
pub fn results(outcome: LedgerOutcome) -> anyhow::Result<BatchResults> {
    match outcome {
        LedgerOutcome::Executed { results, .. } => Ok(results),
        other => anyhow::bail!("expected an executed batch, got {other:?}"),
    }
}

/// Runs one batch alone (a group of one) and returns its outcome.
pub async fn execute_one<S: Ledger>(
    store: &S,
    batch: LedgerBatch,
) -> anyhow::Result<LedgerOutcome> {
    store
        .execute(vec![batch])
        .await?
        .pop()
        .context("a group of one has one outcome")
}

/// Runs one request alone and returns what it came to.
pub async fn run<S: Ledger>(
    store: &S,
    request: LedgerRequest,
) -> anyhow::Result<Result<Applied, LedgerError>> {
    let outcome = execute_one(store, batch(vec![request], true)).await?;
    results(outcome)?
        .into_iter()
        .next()
        .context("an executed batch of one has one result")
}

/// An `ACTIVE` current account of a new customer, credited with `minor` by a deposit (none
/// for zero).
pub async fn funded_account<S: Storage>(store: &S, minor: i64) -> anyhow::Result<Account> {
    let customer = insert_customer(store, "Fonds", "Disponibles").await?;
    let account = insert_account(
        store,
        customer.id,
        AccountType::Courant,
        AccountStatus::Active,
    )
    .await?;
    if minor > 0 {
        run(
            store,
            LedgerRequest::Deposit {
                account: account.id,
                amount: eur(minor)?,
                label: Some("initial deposit".to_owned()),
            },
        )
        .await?
        .map_err(|error| anyhow::anyhow!("the fixture deposit was refused: {error}"))?;
    }
    Ok(store.get_account(account.id).await?)
}
