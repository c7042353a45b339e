//! `coffre migrate` and `coffre admin ...`: staff users, OAuth2 clients, signing keys.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::Context as _;
use coffre_app::ports::Storage;
use coffre_domain::Role;
use coffre_domain::oauth::{ClientType, GrantType, NewClient, Scopes};
use coffre_jose::KeyRing;

use crate::config::Config;
use crate::wiring::{self, Backend};

/// Applies migrations (opening the backend does) and reports it.
pub(crate) async fn migrate(config: &Config) -> anyhow::Result<()> {
    wiring::open_backend(config).await?;
    tracing::info!("migrations applied");
    Ok(())
}

/// Creates a staff user and prints its id on standard output.
pub(crate) async fn create_user(
    config: &Config,
    username: &str,
    role: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let role = Role::parse(role)
        .filter(|r| *r != Role::Customer)
        .ok_or_else(|| anyhow::anyhow!("--role must be teller, admin or auditor"))?;
    let password = read_password(password_stdin)?;
    let user_id = match wiring::open_backend(config).await? {
        Backend::Sqlite(store) => create_with(store, config, username, role, &password).await?,
        Backend::Postgres(store) => create_with(store, config, username, role, &password).await?,
    };
    #[allow(clippy::print_stdout)] // The id on stdout is this command's output.
    {
        println!("{user_id}");
    }
    Ok(())
}

async fn create_with<S: Storage>(
    store: S,
    config: &Config,
    username: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<uuid::Uuid> {
    let service = wiring::service(store, config).await?;
    let id = service
        .create_staff_user(username, role, password)
        .await
        .map_err(describe)?;
    Ok(id.0)
}

/// One line from standard input with `--password-stdin`, else a no-echo prompt on a terminal.
pub(crate) fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("failed to read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    rpassword::prompt_password("Password: ").context("failed to read the password")
}

/// `coffre admin create-client`'s flags, as typed.
#[derive(Debug)]
pub(crate) struct ClientRequest {
    /// `--name`.
    pub(crate) name: String,
    /// `--type`.
    pub(crate) client_type: String,
    /// `--redirect-uri`.
    pub(crate) redirect_uris: Vec<String>,
    /// `--grant`.
    pub(crate) grants: Vec<String>,
    /// `--scope`.
    pub(crate) scopes: Vec<String>,
    /// `--first-party`.
    pub(crate) first_party: bool,
    /// `--role`.
    pub(crate) role: Option<String>,
    /// `--introspect`.
    pub(crate) introspect: bool,
}

impl ClientRequest {
    fn registration(&self) -> anyhow::Result<(NewClient, Option<Role>)> {
        let client_type = ClientType::parse(&self.client_type)
            .ok_or_else(|| anyhow::anyhow!("--type must be confidential or public"))?;
        let grants = if self.grants.is_empty() && self.introspect {
            // A resource server only introspects.
            Vec::new()
        } else if self.grants.is_empty() {
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        } else {
            self.grants
                .iter()
                .map(|grant| {
                    GrantType::parse(grant).ok_or_else(|| {
                        anyhow::anyhow!(
                            "unknown grant {grant:?}: authorization_code, refresh_token, \
client_credentials or password"
                        )
                    })
                })
                .collect::<anyhow::Result<_>>()?
        };
        let scopes = Scopes::parse(&self.scopes.join(" ")).map_err(|e| anyhow::anyhow!("{e}"))?;
        let role = match &self.role {
            Some(role) => Some(
                Role::parse(role)
                    .ok_or_else(|| anyhow::anyhow!("--role must be teller, admin or auditor"))?,
            ),
            None => None,
        };
        let registration = NewClient {
            name: self.name.clone(),
            client_type,
            redirect_uris: self.redirect_uris.clone(),
            grants,
            scopes,
            first_party: self.first_party,
            introspect: self.introspect,
        };
        Ok((registration, role))
    }
}

/// Registers an OAuth2 client and prints its id (and secret) as one JSON line.
pub(crate) async fn create_client(config: &Config, request: ClientRequest) -> anyhow::Result<()> {
    let (registration, role) = request.registration()?;
    let registered = match wiring::open_backend(config).await? {
        Backend::Sqlite(store) => register_with(store, config, registration, role).await?,
        Backend::Postgres(store) => register_with(store, config, registration, role).await?,
    };
    let mut line = serde_json::json!({"client_id": registered.client_id.to_string()});
    if let Some(secret) = registered.client_secret {
        line["client_secret"] = serde_json::Value::String(secret.0);
    }
    #[allow(clippy::print_stdout)] // The credentials on stdout are this command's output.
    {
        println!("{line}");
    }
    Ok(())
}

async fn register_with<S: Storage>(
    store: S,
    config: &Config,
    registration: NewClient,
    role: Option<Role>,
) -> anyhow::Result<coffre_app::oauth::RegisteredClient> {
    let service = wiring::service(store, config).await?;
    service
        .register_client(registration, role)
        .await
        .map_err(describe)
}

/// Adds a signing key and prints its `kid`.
pub(crate) fn rotate_keys(config: &Config) -> anyhow::Result<()> {
    let kid = KeyRing::rotate(config.keys_dir()).context("failed to add a signing key")?;
    tracing::info!(kid = %kid, "signing key added");
    #[allow(clippy::print_stdout)] // The new key id on stdout is this command's output.
    {
        println!("{}", serde_json::json!({"kid": kid}));
    }
    Ok(())
}

/// A use-case error as a command-line message (validation errors field by field).
fn describe(error: coffre_app::AppError) -> anyhow::Error {
    match error {
        coffre_app::AppError::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}
