//! The command line, as fixed by `shared/spec/cli.md`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Coffre, an open-source core-banking server.
#[derive(Debug, Parser)]
#[command(name = "coffre", version, about)]
pub(crate) struct Cli {
    /// Configuration file (default: `coffre.toml` in the working directory, if present).
    #[arg(long, env = "COFFRE_CONFIG", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server (migrations run at start).
    Serve {
        /// Address to listen on (overrides `COFFRE_LISTEN`).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Data directory (overrides `COFFRE_DATA_DIR`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Data directory (overrides `COFFRE_DATA_DIR`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Checks of the event log.
    Audit {
        /// The check.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Load-test `POST /v1/transactions` on a running server and print throughput and latency.
    Bench {
        /// The server's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// A teller or admin login (it sets up its own customer and accounts).
        #[arg(long)]
        username: String,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// How long to send, in seconds.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// How many accounts transfers are spread over.
        #[arg(long, default_value_t = 20)]
        accounts: usize,
        /// `uniform`, or `hot`: half of the transfers touch one account.
        #[arg(long, value_enum, default_value = "uniform")]
        mode: crate::bench::Mode,
    },
    /// Administration.
    Admin {
        /// The administration task.
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Administration tasks.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create a staff user (teller, admin, auditor) and print its id.
    CreateUser {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role: teller, admin or auditor.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Data directory (overrides `COFFRE_DATA_DIR`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// Checks of the event log.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Re-check the event log's hash chain: exit 0 when intact, 1 with the first broken event.
    Verify {
        /// Data directory (overrides `COFFRE_DATA_DIR`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Replay the event log and compare it with the live balances and statuses: exit 0 when
    /// they match, 1 listing every mismatch.
    Rebuild {
        /// Only compare (the live tables are never rewritten from the log).
        #[arg(long, required = true)]
        check: bool,
        /// Data directory (overrides `COFFRE_DATA_DIR`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}
