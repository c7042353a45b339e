//! `spawn_app()` and one helper per endpoint (zero2prod's `tests/api/helpers.rs` pattern).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use coffre_app::oauth::OAuthPolicy;
use coffre_app::ports::{Clock, Storage};
use coffre_app::throttle::ThrottlePolicy;
use coffre_app::{BankIdentity, Service, ServiceConfig, ServicePorts};
use coffre_domain::oauth::{ClientType, GrantType, NewClient, Scopes};
use coffre_domain::{Bic, Role};
use coffre_http::{AppState, HttpSettings};
use coffre_jose::{JwtSigner, KeyRing, SecretSealer};
use coffre_local::SystemClock;
use coffre_local::{Argon2Hasher, MokaEntries, StoreRevocations};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// Runs `$test` against SQLite and PostgreSQL, as two named tests.
#[macro_export]
macro_rules! both_engines {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() -> anyhow::Result<()> {
                    super::$test($crate::helpers::spawn_app($crate::helpers::Engine::Sqlite).await?).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() -> anyhow::Result<()> {
                    super::$test($crate::helpers::spawn_app($crate::helpers::Engine::Postgres).await?).await
                }
            }
        )*
    };
}

/// Runs `$test(engine)` on SQLite and PostgreSQL, for tests that start their own app (with
/// settings of their own, or more than one app).
#[macro_export]
macro_rules! each_engine {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() -> anyhow::Result<()> {
                    super::$test($crate::helpers::Engine::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() -> anyhow::Result<()> {
                    super::$test($crate::helpers::Engine::Postgres).await
                }
            }
        )*
    };
}

/// Like `both_engines!`, for tests that move a [`ManualClock`].
#[macro_export]
macro_rules! both_engines_with_clock {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                use $crate::helpers::{Engine, ManualClock, spawn_app_with, test_settings};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() -> anyhow::Result<()> {
                    let clock = ManualClock::new();
                    super::$test(spawn_app_with(Engine::Sqlite, test_settings(), clock.clone()).await?, clock).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() -> anyhow::Result<()> {
                    let clock = ManualClock::new();
                    super::$test(spawn_app_with(Engine::Postgres, test_settings(), clock.clone()).await?, clock).await
                }
            }
        )*
    };
}

/// The storage engine under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

/// The staff users every test app starts with, and their password.
pub(crate) const STAFF_PASSWORD: &str = "staff password 1234";
pub(crate) const TELLER: &str = "teller";
pub(crate) const ADMIN: &str = "admin";
pub(crate) const AUDITOR: &str = "auditor";
pub(crate) const CUSTOMER_PASSWORD: &str = "customer password 1234";

/// A running server on a fresh database.
pub(crate) struct TestApp {
    pub(crate) address: SocketAddr,
    pub(crate) database_url: String,
    pub(crate) engine: Engine,
    /// The OAuth clients every test app starts with (see [`CLIENTS`]): name → (id, secret).
    pub(crate) clients: BTreeMap<&'static str, (String, Option<String>)>,
    /// The signing keys' directory.
    pub(crate) keys: Arc<KeyRing>,
    _guard: Option<tempfile::TempDir>,
    _keys_dir: tempfile::TempDir,
}

/// An OAuth client every test app registers.
pub(crate) struct TestClient {
    pub(crate) name: &'static str,
    pub(crate) client_type: ClientType,
    pub(crate) grants: &'static [GrantType],
    pub(crate) scopes: &'static str,
    pub(crate) first_party: bool,
    pub(crate) role: Option<Role>,
    pub(crate) introspect: bool,
}

/// The OAuth clients every test app registers.
pub(crate) const CLIENTS: &[TestClient] = &[
    TestClient {
        name: "first-party",
        client_type: ClientType::Confidential,
        grants: &[GrantType::Password, GrantType::RefreshToken],
        scopes: "openid profile accounts:read accounts:write transactions:read transactions:write \
customers:read customers:write audit:read admin",
        first_party: true,
        role: None,
        introspect: false,
    },
    TestClient {
        name: "reader",
        client_type: ClientType::Confidential,
        grants: &[GrantType::Password, GrantType::RefreshToken],
        scopes: "accounts:read",
        first_party: true,
        role: None,
        introspect: false,
    },
    TestClient {
        name: "web-app",
        client_type: ClientType::Public,
        grants: &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: "openid profile accounts:read transactions:read",
        first_party: false,
        role: None,
        introspect: false,
    },
    TestClient {
        name: "third-party",
        client_type: ClientType::Confidential,
        grants: &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: "openid accounts:read",
        first_party: false,
        role: None,
        introspect: false,
    },
    TestClient {
        name: "service",
        client_type: ClientType::Confidential,
        grants: &[GrantType::ClientCredentials],
        scopes: "audit:read accounts:read",
        first_party: false,
        role: Some(Role::Auditor),
        introspect: false,
    },
    TestClient {
        name: "resource-server",
        client_type: ClientType::Confidential,
        grants: &[],
        scopes: "",
        first_party: false,
        role: None,
        introspect: true,
    },
];

/// The redirect URI of the test apps' authorization-code clients.
pub(crate) const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// A client with its own cookie jar and, once logged in, its CSRF token.
pub(crate) struct UserClient {
    pub(crate) http: Client,
    pub(crate) base: String,
    pub(crate) csrf: Option<String>,
    pub(crate) user: Value,
}

pub(crate) fn test_config(issuer: &str) -> anyhow::Result<ServiceConfig> {
    let lockout = time::Duration::minutes(15);
    Ok(ServiceConfig {
        bank: BankIdentity {
            bank_code: "99999".into(),
            branch_code: "00001".into(),
            bic: Bic::parse("COFRFRPPXXX").map_err(|e| anyhow::anyhow!("{e}"))?,
        },
        session_idle_timeout: time::Duration::minutes(15),
        session_absolute_timeout: time::Duration::hours(8),
        max_sessions_per_user: 10,
        user_throttle: ThrottlePolicy {
            max_failures: 3,
            window: lockout,
            lockout,
        },
        ip_throttle: ThrottlePolicy {
            max_failures: 6,
            window: lockout,
            lockout,
        },
        mfa_throttle: ThrottlePolicy {
            max_failures: 5,
            window: lockout,
            lockout,
        },
        step_up: coffre_app::auth::StepUpPolicy::default(),
        ledger: coffre_domain::ledger::LedgerPolicy::default(),
        group_commit: coffre_app::group_commit::GroupCommitConfig::default(),
        cache: coffre_app::read_cache::CacheConfig::default(),
        oauth: OAuthPolicy {
            issuer: issuer.to_owned(),
            audience: format!("{issuer}/v1"),
            access_token_ttl: time::Duration::minutes(15),
            refresh_token_ttl: time::Duration::days(30),
            code_ttl: time::Duration::seconds(60),
        },
    })
}

/// A clock the test moves by hand, to test expiry without waiting.
#[derive(Debug, Clone)]
pub(crate) struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    pub(crate) fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(OffsetDateTime::now_utc())))
    }

    /// Now, in Unix seconds (what TOTP codes count from).
    pub(crate) fn now_unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    pub(crate) fn advance(&self, by: time::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.0
            .lock()
            .map(|now| *now)
            .unwrap_or_else(|_| OffsetDateTime::now_utc())
    }
}

/// Starts the API on port 0 over a fresh, migrated database with three staff users.
pub(crate) async fn spawn_app(engine: Engine) -> anyhow::Result<TestApp> {
    spawn_app_with(engine, test_settings(), SystemClock).await
}

/// The HTTP settings of test apps: plain http, a small body limit.
pub(crate) fn test_settings() -> HttpSettings {
    HttpSettings {
        body_limit_bytes: 16 * 1024,
        // The suite's clients make far more than the default 100 requests a minute;
        // `rate_limits.rs` sets its own limits.
        rate_limit_per_minute: std::num::NonZeroU32::MAX,
        ..HttpSettings::default()
    }
}

/// Like [`spawn_app`], with chosen HTTP settings and clock.
pub(crate) async fn spawn_app_with<C: Clock>(
    engine: Engine,
    settings: HttpSettings,
    clock: C,
) -> anyhow::Result<TestApp> {
    match engine {
        Engine::Sqlite => {
            let (url, guard) = coffre_store_tests::fresh_sqlite_url().await?;
            let store = coffre_store_sqlite::SqliteStore::connect(&url).await?;
            store.migrate().await?;
            start(store, clock, settings, url, engine, Some(guard)).await
        }
        Engine::Postgres => {
            let url = coffre_store_tests::fresh_database_url().await?;
            let store = coffre_store_postgres::PostgresStore::connect(&url).await?;
            store.migrate().await?;
            start(store, clock, settings, url, engine, None).await
        }
    }
}

async fn start<S: Storage, C: Clock>(
    store: S,
    clock: C,
    settings: HttpSettings,
    database_url: String,
    engine: Engine,
    guard: Option<tempfile::TempDir>,
) -> anyhow::Result<TestApp> {
    // Bound first: the address is the issuer the tokens name.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let issuer = format!("http://{address}");
    let keys_dir = tempfile::tempdir()?;
    let keys = Arc::new(KeyRing::load_or_create(
        keys_dir.path(),
        time::Duration::minutes(15),
    )?);
    let signer = JwtSigner::new(Arc::clone(&keys), issuer.clone(), format!("{issuer}/v1"));
    let ports = ServicePorts {
        hasher: Arc::new(Argon2Hasher::new()),
        tokens: Arc::new(signer),
        revocations: Arc::new(StoreRevocations(store.clone())),
        seal: Arc::new(SecretSealer::load_or_create(keys_dir.path())?),
    };
    let service = Service::new(store, clock, ports, &MokaEntries, test_config(&issuer)?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (name, role) in [
        (TELLER, Role::Teller),
        (ADMIN, Role::Admin),
        (AUDITOR, Role::Auditor),
    ] {
        service
            .create_staff_user(name, role, STAFF_PASSWORD)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut clients = BTreeMap::new();
    for client in CLIENTS {
        let registration = NewClient {
            name: client.name.to_owned(),
            client_type: client.client_type,
            redirect_uris: if client.grants.contains(&GrantType::AuthorizationCode) {
                vec![REDIRECT_URI.to_owned()]
            } else {
                Vec::new()
            },
            grants: client.grants.to_vec(),
            scopes: Scopes::parse(client.scopes).map_err(|e| anyhow::anyhow!("{e}"))?,
            first_party: client.first_party,
            introspect: client.introspect,
        };
        let registered = service
            .register_client(registration, client.role)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        clients.insert(
            client.name,
            (
                registered.client_id.to_string(),
                registered.client_secret.map(|secret| secret.0),
            ),
        );
    }
    let metrics = coffre_http::metrics_recorder::install()?;
    let router = coffre_http::router(AppState::new(service, settings, metrics));
    tokio::spawn(coffre_http::serve(listener, router, std::future::pending()));
    Ok(TestApp {
        address,
        database_url,
        engine,
        clients,
        keys,
        _guard: guard,
        _keys_dir: keys_dir,
    })
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A client with no session.
    pub(crate) fn anonymous(&self) -> UserClient {
        UserClient {
            http: Client::builder()
                .cookie_store(true)
                .build()
                .unwrap_or_default(),
            base: self.url(""),
            csrf: None,
            user: Value::Null,
        }
    }

    /// A logged-in client.
    pub(crate) async fn login(&self, username: &str, password: &str) -> anyhow::Result<UserClient> {
        self.log_in(&json!({"username": username, "password": password}))
            .await
    }

    /// A client logged in with a one-time code as well.
    pub(crate) async fn login_with_code(
        &self,
        username: &str,
        password: &str,
        totp_code: &str,
    ) -> anyhow::Result<UserClient> {
        self.log_in(&json!({"username": username, "password": password, "totp_code": totp_code}))
            .await
    }

    async fn log_in(&self, body: &Value) -> anyhow::Result<UserClient> {
        let mut client = self.anonymous();
        let response = client.post("/auth/login", body).await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "login failed: {}",
            response.status()
        );
        let body: Value = response.json().await?;
        client.csrf = body["csrf_token"].as_str().map(str::to_owned);
        client.user = body["user"].clone();
        Ok(client)
    }

    pub(crate) async fn teller(&self) -> anyhow::Result<UserClient> {
        self.login(TELLER, STAFF_PASSWORD).await
    }

    /// Signs a customer up (publicly) and returns their record.
    pub(crate) async fn sign_up(&self, email: &str) -> anyhow::Result<Value> {
        let response = self
            .anonymous()
            .post("/v1/customers", &sign_up_body(email))
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::CREATED,
            "sign-up failed: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    /// Signs a customer up, verifies their KYC, and logs them in.
    pub(crate) async fn verified_customer(
        &self,
        email: &str,
    ) -> anyhow::Result<(Value, UserClient)> {
        let customer = self.sign_up(email).await?;
        let id = customer["id"].as_str().context("customer id")?;
        let teller = self.teller().await?;
        let response = teller
            .post(
                &format!("/v1/customers/{id}/kyc"),
                &json!({"decision": "VERIFIED"}),
            )
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "KYC failed: {}",
            response.status()
        );
        let client = self.login(email, CUSTOMER_PASSWORD).await?;
        Ok((customer, client))
    }

    /// Counts rows of a table straight from the database: "no change" means no new row.
    pub(crate) async fn count(&self, table: &'static str) -> anyhow::Result<i64> {
        // Test-only, and the table name is a literal: audited.
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self.engine {
            Engine::Sqlite => {
                let mut connection =
                    <sqlx::SqliteConnection as sqlx::Connection>::connect(&self.database_url)
                        .await?;
                Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut connection)
                    .await?)
            }
            Engine::Postgres => {
                let mut connection =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&self.database_url).await?;
                Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut connection)
                    .await?)
            }
        }
    }

    /// Runs one SQL statement straight on the database (to set up states the API cannot make
    /// yet, such as a non-zero balance before the ledger exists).
    pub(crate) async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        match self.engine {
            Engine::Sqlite => {
                let mut connection =
                    <sqlx::SqliteConnection as sqlx::Connection>::connect(&self.database_url)
                        .await?;
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut connection)
                    .await?;
            }
            Engine::Postgres => {
                let mut connection =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&self.database_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut connection)
                    .await?;
            }
        }
        Ok(())
    }
}

pub(crate) fn sign_up_body(email: &str) -> Value {
    json!({
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": email,
        "birth_date": "1990-12-10",
        "address": {"line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
        "password": CUSTOMER_PASSWORD,
    })
}

impl UserClient {
    fn with_csrf(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.csrf {
            Some(token) => builder.header("X-CSRF-Token", token),
            None => builder,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<Response> {
        Ok(self.http.get(format!("{}{path}", self.base)).send().await?)
    }

    /// GETs `path`, which must answer 200, and returns its JSON body.
    pub(crate) async fn get_ok_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.get(path).await?;
        anyhow::ensure!(
            response.status() == reqwest::StatusCode::OK,
            "GET {path}: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Response> {
        Ok(self
            .with_csrf(self.http.post(format!("{}{path}", self.base)).json(body))
            .send()
            .await?)
    }

    pub(crate) async fn patch(
        &self,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> anyhow::Result<Response> {
        let mut builder =
            self.with_csrf(self.http.patch(format!("{}{path}", self.base)).json(body));
        if let Some(tag) = if_match {
            builder = builder.header("If-Match", tag);
        }
        Ok(builder.send().await?)
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> anyhow::Result<Response> {
        Ok(self
            .with_csrf(self.http.put(format!("{}{path}", self.base)).json(body))
            .send()
            .await?)
    }

    pub(crate) async fn delete(&self, path: &str) -> anyhow::Result<Response> {
        Ok(self
            .with_csrf(self.http.delete(format!("{}{path}", self.base)))
            .send()
            .await?)
    }

    /// A raw request, for malformed bodies and odd headers.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.with_csrf(self.http.request(method, format!("{}{path}", self.base)))
    }

    /// Opens an account and returns it.
    pub(crate) async fn open_account(&self, body: &Value) -> anyhow::Result<Value> {
        let response = self.post("/v1/accounts", body).await?;
        anyhow::ensure!(
            response.status() == StatusCode::CREATED,
            "open failed: {}",
            response.status()
        );
        Ok(response.json().await?)
    }
}

/// Asserts a problem+json answer with `status` and `code`, and returns the body.
pub(crate) async fn assert_problem(
    response: Response,
    status: StatusCode,
    code: &str,
) -> anyhow::Result<Value> {
    let actual = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "body: {body}");
    assert_eq!(content_type, "application/problem+json", "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status.as_u16(), "body: {body}");
    assert!(
        body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(),
        "body: {body}"
    );
    Ok(body)
}

/// Runs every request at once and collects the statuses.
pub(crate) async fn statuses_of_all<F>(
    requests: impl Iterator<Item = F>,
) -> anyhow::Result<Vec<StatusCode>>
where
    F: std::future::Future<Output = anyhow::Result<reqwest::Response>>,
{
    let responses = futures_util::future::join_all(requests).await;
    responses
        .into_iter()
        .map(|r| r.map(|response| response.status()))
        .collect()
}

/// A fresh `Idempotency-Key`.
pub(crate) fn fresh_key() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl UserClient {
    /// POSTs `body` with an `Idempotency-Key`.
    pub(crate) async fn post_with_key(
        &self,
        path: &str,
        body: &Value,
        key: &str,
    ) -> anyhow::Result<Response> {
        Ok(self
            .with_csrf(self.http.post(format!("{}{path}", self.base)).json(body))
            .header("Idempotency-Key", key)
            .send()
            .await?)
    }

    /// POSTs `body` with a fresh `Idempotency-Key`.
    pub(crate) async fn post_once(&self, path: &str, body: &Value) -> anyhow::Result<Response> {
        self.post_with_key(path, body, &fresh_key()).await
    }

    /// An account's current balance amount, e.g. `"12.50"`.
    pub(crate) async fn current_balance(&self, account_id: &str) -> anyhow::Result<String> {
        let balance: Value = self
            .get(&format!("/v1/accounts/{account_id}/balance"))
            .await?
            .json()
            .await?;
        balance["current"]["amount"]
            .as_str()
            .map(str::to_owned)
            .context("balance amount")
    }
}

/// One answer, as received: status, `Idempotency-Replayed` flag and body bytes.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) replayed: bool,
    pub(crate) body: Vec<u8>,
}

/// Reads a response into an [`Answer`].
pub(crate) async fn answer_of(response: Response) -> anyhow::Result<Answer> {
    let status = response.status();
    let replayed = response
        .headers()
        .get("idempotency-replayed")
        .is_some_and(|v| v.as_bytes() == b"true");
    let body = response.bytes().await?.to_vec();
    Ok(Answer {
        status,
        replayed,
        body,
    })
}

/// Runs every request at once and keeps each answer's status and body.
pub(crate) async fn answers_of_all<F>(
    requests: impl Iterator<Item = F>,
) -> anyhow::Result<Vec<Answer>>
where
    F: std::future::Future<Output = anyhow::Result<reqwest::Response>>,
{
    let responses = futures_util::future::join_all(requests).await;
    let mut answers = Vec::with_capacity(responses.len());
    for response in responses {
        answers.push(answer_of(response?).await?);
    }
    Ok(answers)
}
