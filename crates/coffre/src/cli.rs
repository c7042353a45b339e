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
    /// Load-test a running server: throughput, latency percentiles and errors by status.
    Bench {
        /// The server's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// A teller or admin login (it sets up its own customer and funded accounts).
        #[arg(long)]
        username: String,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// What to send: `transfer-uniform`, `transfer-hot` (every transfer credits one
        /// account), `batch` (1 000 transfers per request), `read-balance`, or `mixed` (90 %
        /// balance reads, 10 % transfers).
        #[arg(long, value_enum, default_value = "transfer-uniform")]
        workload: crate::bench::Workload,
        /// Concurrent HTTP/1.1 keep-alive connections.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// How long to send, in seconds.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// How many accounts the requests are spread over.
        #[arg(long, default_value_t = 20)]
        accounts: usize,
        /// Print one JSON object instead of a short text.
        #[arg(long)]
        json: bool,
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
    /// Register an OAuth2 client and print `{"client_id", "client_secret"}` as one JSON line
    /// (the secret, for confidential clients, is shown this once and stored hashed).
    CreateClient {
        /// The name shown on the consent page.
        #[arg(long)]
        name: String,
        /// `confidential` (can keep a secret) or `public`.
        #[arg(long = "type", value_name = "TYPE")]
        client_type: String,
        /// A redirect URI, matched exactly (repeatable).
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// A grant: authorization_code, refresh_token, client_credentials, password
        /// (repeatable; default authorization_code and refresh_token).
        #[arg(long = "grant", value_name = "GRANT")]
        grants: Vec<String>,
        /// A scope the client may ask for (repeatable; space-separated lists also work).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// One of the bank's own applications: may use the password grant, skips consent.
        #[arg(long)]
        first_party: bool,
        /// For client_credentials: the service account's role (teller, admin or auditor).
        #[arg(long)]
        role: Option<String>,
        /// A resource server: may introspect tokens at /oauth/introspect (confidential only;
        /// with no --grant, the client gets no grant).
        #[arg(long)]
        introspect: bool,
        /// Data directory (overrides `COFFRE_DATA_DIR`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Add a new token signing key; older keys stay published until every token they signed
    /// has expired. Running servers pick it up within `COFFRE_AUTH_KEY_RELOAD_S`.
    RotateKeys {
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
