//! `coffre migrate` and `coffre admin ...`.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::Context as _;
use coffre_app::ports::Storage;
use coffre_domain::Role;

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
        .map_err(|e| match e {
            coffre_app::AppError::Validation(errors) => anyhow::anyhow!(
                "{}",
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow::anyhow!("{other}"),
        })?;
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
