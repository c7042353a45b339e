//! `coffre`: the binary. It parses the command line and configuration, then wires adapters
//! together; every rule lives in the library crates.

mod admin;
mod audit;
mod bench;
mod cli;
mod config;
mod edge_config;
mod serve;
mod statement_config;
mod telemetry;
mod wiring;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{AdminCommand, AuditCommand, Cli, Command};
use crate::config::Config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            #[allow(clippy::print_stderr)] // The last resort: logging may not be set up.
            {
                eprintln!("coffre: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    telemetry::init(&config.log)?;
    match cli.command {
        Command::Serve { listen, data_dir } => {
            config.listen = listen.unwrap_or(config.listen);
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            serve::run(config).await
        }
        Command::Migrate { data_dir } => {
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            admin::migrate(&config).await
        }
        Command::Audit {
            command: AuditCommand::Verify { data_dir },
        } => {
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            audit::verify(&config).await
        }
        Command::Audit {
            command: AuditCommand::Rebuild { check: _, data_dir },
        } => {
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            audit::rebuild_check(&config).await
        }
        Command::Bench {
            url,
            username,
            password_stdin,
            workload,
            connections,
            duration,
            accounts,
            json,
        } => {
            let password = admin::read_password(password_stdin)?;
            bench::run(bench::BenchOptions {
                url: url.trim_end_matches('/').to_owned(),
                username,
                password,
                connections,
                duration: std::time::Duration::from_secs(duration),
                accounts,
                workload,
                json,
            })
            .await
        }
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    username,
                    role,
                    password_stdin,
                    data_dir,
                },
        } => {
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            admin::create_user(&config, &username, &role, password_stdin).await
        }
        Command::Admin {
            command:
                AdminCommand::CreateClient {
                    name,
                    client_type,
                    redirect_uris,
                    grants,
                    scopes,
                    first_party,
                    role,
                    introspect,
                    data_dir,
                },
        } => {
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            let request = admin::ClientRequest {
                name,
                client_type,
                redirect_uris,
                grants,
                scopes,
                first_party,
                role,
                introspect,
            };
            admin::create_client(&config, request).await
        }
        Command::Admin {
            command: AdminCommand::RotateKeys { data_dir },
        } => {
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            admin::rotate_keys(&config)
        }
    }
}
