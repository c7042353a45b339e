//! A throwaway PostgreSQL server, started by the tests themselves: nothing needs to be
//! installed beyond the server binaries, and nothing is left running or on disk afterwards.
//!
//! The first call to [`fresh_database_url`] in a test process runs `initdb` into a new
//! temporary directory and starts a server on a free port of 127.0.0.1 (its Unix socket in
//! that directory, `fsync=off` since a crash only loses test data); every call then creates a
//! new, empty database on it, so tests running in parallel never see each other's rows.
//!
//! A test binary never runs the destructors of statics, so the server cannot be stopped from
//! Rust. Instead, a small watchdog shell process, started before the server and detached from
//! the test's process group, waits for the test process to exit (however it exits), then stops
//! the server and deletes the directory.
//!
//! PostgreSQL refuses to run as root. When the tests run as root (containers, CI), the server
//! commands run as the `postgres` system user through `runuser`, and the directory is handed
//! to that user.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::Command;
use tokio::sync::OnceCell;

/// Where Debian and Ubuntu install one directory per PostgreSQL major version.
const VERSIONS_ROOT: &str = "/usr/lib/postgresql";
/// Overrides the binary directory (e.g. a Homebrew or source install).
const BIN_DIR_VARIABLE: &str = "COFFRE_TEST_PG_BINDIR";
/// The binaries the harness runs.
const REQUIRED_BINARIES: [&str; 5] = ["initdb", "pg_ctl", "postgres", "psql", "pg_isready"];
/// The system user that owns the server when the tests run as root, and the superuser role.
const POSTGRES_USER: &str = "postgres";
/// How long `pg_ctl start` may wait for the server to accept connections.
const START_TIMEOUT_SECONDS: u32 = 60;
/// Free ports are found by binding port 0 and releasing it, which another process may take in
/// between: a start that fails is retried this many times on a new port.
const START_ATTEMPTS: u32 = 3;
/// Readiness checks after a start (each waits up to one second), and the pause between them.
const READY_CHECKS: u32 = 30;
const READY_PAUSE: Duration = Duration::from_millis(100);

/// The server of this test process: started once, by whichever test asks first.
static SERVER: OnceCell<Result<Server, String>> = OnceCell::const_new();
/// Numbers the databases handed out by this process.
static DATABASES: AtomicU64 = AtomicU64::new(1);

/// A URL (`postgres://postgres@127.0.0.1:PORT/NAME`) for a new, empty database on this test
/// process's throwaway server, starting the server on first use.
pub async fn fresh_database_url() -> anyhow::Result<String> {
    let server = SERVER
        .get_or_init(|| async { Server::start().await.map_err(|error| format!("{error:#}")) })
        .await
        .as_ref()
        .map_err(|error| {
            anyhow::anyhow!("the throwaway PostgreSQL server did not start: {error}")
        })?;
    let name = format!("coffre_test_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
    server.psql(&format!("CREATE DATABASE {name}")).await?;
    Ok(format!(
        "postgres://{POSTGRES_USER}@127.0.0.1:{}/{name}",
        server.port
    ))
}

/// A running throwaway server.
#[derive(Debug)]
struct Server {
    /// The directory of `initdb`, `pg_ctl`, `psql`...
    bin_dir: PathBuf,
    /// Holds `data/`, the server log and the Unix socket; deleted by the watchdog.
    directory: PathBuf,
    /// Whether server commands must run as the `postgres` user.
    as_root: bool,
    /// The TCP port on 127.0.0.1.
    port: u16,
}

impl Server {
    /// Creates the cluster, starts the server and waits until it accepts connections.
    async fn start() -> anyhow::Result<Server> {
        let bin_dir = find_bin_dir()?;
        let as_root = running_as_root().await?;
        let directory = tempfile::Builder::new()
            .prefix("coffre-pg-")
            .tempdir()
            .context("failed to create the PostgreSQL test directory")?
            .keep();
        let mut server = Server {
            bin_dir,
            directory,
            as_root,
            port: 0,
        };
        // First of all, so that whatever fails below, the directory is cleaned up.
        server.spawn_watchdog()?;
        if as_root {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg(POSTGRES_USER).arg(&server.directory);
            run(chown, "chown the PostgreSQL test directory").await?;
        }
        server.init_cluster().await?;
        server.start_on_a_free_port().await?;
        server.wait_until_ready().await?;
        Ok(server)
    }

    /// A command running one of the server binaries, as `postgres` when we are root.
    fn server_command(&self, binary: &str) -> Command {
        let mut command = if self.as_root {
            let mut command = Command::new("runuser");
            command
                .args(["-u", POSTGRES_USER, "--"])
                .arg(self.bin_dir.join(binary));
            command
        } else {
            Command::new(self.bin_dir.join(binary))
        };
        // The `postgres` user cannot enter the test's working directory, which may be private.
        command.current_dir(&self.directory);
        without_libpq_environment(&mut command);
        command
    }

    fn data_dir(&self) -> PathBuf {
        self.directory.join("data")
    }

    /// Starts the detached process that stops the server and deletes the directory once this
    /// test process has exited.
    fn spawn_watchdog(&self) -> anyhow::Result<()> {
        const SCRIPT: &str = r#"while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
directory=$2
shift 2
"$@" stop -D "$directory/data" -m immediate >/dev/null 2>&1
rm -rf "$directory""#;
        let mut command = std::process::Command::new("sh");
        command
            .args(["-c", SCRIPT, "coffre-pg-watchdog"])
            .arg(std::process::id().to_string())
            .arg(&self.directory);
        if self.as_root {
            command.args(["runuser", "-u", POSTGRES_USER, "--"]);
        }
        command.arg(self.bin_dir.join("pg_ctl"));
        // Its own process group: a Ctrl-C aimed at `cargo test` must not kill the cleanup.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start the PostgreSQL test watchdog (sh)")?;
        // Never waited for: it must outlive this process, and is reaped by init once it ends.
        Ok(())
    }

    /// `initdb` with trust authentication (the server listens on loopback only, for tests).
    async fn init_cluster(&self) -> anyhow::Result<()> {
        let mut initdb = self.server_command("initdb");
        initdb.arg("-D").arg(self.data_dir()).args([
            "-U",
            POSTGRES_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]);
        run(initdb, "initdb").await.map(drop)
    }

    /// Starts the server, retrying on another port if the one chosen was taken meanwhile.
    async fn start_on_a_free_port(&mut self) -> anyhow::Result<()> {
        let mut attempt = 1;
        loop {
            self.port = free_port()?;
            match self.pg_ctl_start().await {
                Ok(()) => return Ok(()),
                Err(error) if attempt >= START_ATTEMPTS => {
                    return Err(error.context(self.log_tail().await));
                }
                Err(_) => attempt += 1,
            }
        }
    }

    async fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            self.port,
            self.directory.display()
        );
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.directory.join("postgres.log"))
            .args([
                "-w",
                "-t",
                &START_TIMEOUT_SECONDS.to_string(),
                "-o",
                &options,
                "start",
            ]);
        run(pg_ctl, "pg_ctl start").await.map(drop)
    }

    /// The end of the server log, to explain a failed start.
    async fn log_tail(&self) -> String {
        // Blocking, but only on the way to reporting a failure.
        let log = std::fs::read_to_string(self.directory.join("postgres.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "server log ({}):\n{}",
            self.directory.display(),
            tail.join("\n")
        )
    }

    /// Polls `pg_isready` (bounded) until the server accepts connections on TCP.
    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        for _ in 0..READY_CHECKS {
            let mut check = Command::new(self.bin_dir.join("pg_isready"));
            check
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    POSTGRES_USER,
                    "-d",
                    "postgres",
                    "-t",
                    "1",
                    "-p",
                ])
                .arg(self.port.to_string());
            without_libpq_environment(&mut check);
            let status = check
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await
                .context("failed to run pg_isready")?;
            if status.success() {
                return Ok(());
            }
            tokio::time::sleep(READY_PAUSE).await;
        }
        bail!(
            "PostgreSQL did not accept connections on port {}; {}",
            self.port,
            self.log_tail().await
        )
    }

    /// Runs one SQL statement as the superuser, over TCP.
    async fn psql(&self, sql: &str) -> anyhow::Result<()> {
        let mut psql = Command::new(self.bin_dir.join("psql"));
        psql.args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            POSTGRES_USER,
            "-d",
            "postgres",
        ])
        .arg("-p")
        .arg(self.port.to_string())
        .arg("-c")
        .arg(sql);
        without_libpq_environment(&mut psql);
        run(psql, "psql").await.map(drop)
    }
}

/// The newest PostgreSQL binaries: `$COFFRE_TEST_PG_BINDIR`, else the highest version under
/// `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let complete = |dir: &Path| {
        REQUIRED_BINARIES
            .iter()
            .all(|binary| dir.join(binary).is_file())
    };
    if let Some(dir) = std::env::var_os(BIN_DIR_VARIABLE).map(PathBuf::from) {
        if complete(&dir) {
            return Ok(dir);
        }
        bail!(
            "{BIN_DIR_VARIABLE}={} does not hold {REQUIRED_BINARIES:?}: point it at a PostgreSQL \
             bin directory, or unset it and `apt-get install postgresql`",
            dir.display()
        );
    }
    std::fs::read_dir(VERSIONS_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let dir = entry.path().join("bin");
            complete(&dir).then_some((version, dir))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, dir)| dir)
        .with_context(|| {
            format!(
                "PostgreSQL server binaries ({REQUIRED_BINARIES:?}) not found under {VERSIONS_ROOT}/*/bin: \
                 install them with `apt-get install postgresql` (or set {BIN_DIR_VARIABLE}). The PostgreSQL \
                 store tests start their own throwaway server; they never use a running one."
            )
        })
}

/// Whether this process runs as root (`id -u` is 0).
async fn running_as_root() -> anyhow::Result<bool> {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .await
        .context("failed to run `id -u`")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener
        .local_addr()
        .context("failed to read the free port")?
        .port())
}

/// Keeps the developer's libpq settings (`PGHOST`, `PGPASSWORD`, ...) away from the harness,
/// which must only ever talk to its own server.
fn without_libpq_environment(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            command.env_remove(key);
        }
    }
}

/// Runs a command to completion; a failure carries its output.
async fn run(mut command: Command, what: &str) -> anyhow::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("failed to run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
