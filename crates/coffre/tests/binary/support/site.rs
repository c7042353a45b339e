//! A test's Coffre site: `coffre` commands with a clean environment, a running server, and
//! what the commands print.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

/// The password of every staff user the tests create.
pub(crate) const STAFF_PASSWORD: &str = "staff secret passphrase 77";

/// Where a test's Coffre keeps its data: a data directory and, optionally, a PostgreSQL URL.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// The data directory (the SQLite file lives here when no URL is given).
    pub(crate) data_dir: PathBuf,
    /// `COFFRE_DATABASE_URL`, when not the embedded default.
    pub(crate) database_url: Option<String>,
}

impl Site {
    /// A `coffre` command with a clean environment pointing at this site.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_coffre"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("COFFRE_DATA_DIR", &self.data_dir)
            // These tests load the server far beyond the default 100 requests a minute.
            .env("COFFRE_RATE_LIMIT_REQUESTS_PER_MINUTE", "1000000000")
            .current_dir(&self.data_dir);
        if let Some(url) = &self.database_url {
            command.env("COFFRE_DATABASE_URL", url);
        }
        command
    }

    /// Runs `coffre admin create-user` for a staff user with [`STAFF_PASSWORD`].
    pub(crate) fn create_user(&self, username: &str, role: &str) -> anyhow::Result<()> {
        let args = [
            "admin",
            "create-user",
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
        ];
        let (created, _, stderr) = self.run_with_password(&args)?;
        anyhow::ensure!(created, "create-user failed: {stderr}");
        Ok(())
    }

    /// Runs a `coffre` subcommand that reads [`STAFF_PASSWORD`] from standard input
    /// (`--password-stdin`) and returns (success, stdout, stderr).
    pub(crate) fn run_with_password(
        &self,
        args: &[&str],
    ) -> anyhow::Result<(bool, String, String)> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(format!("{STAFF_PASSWORD}\n").as_bytes())?;
        let output = child.wait_with_output()?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// Runs a `coffre` subcommand to completion and returns (success, stdout, stderr).
    pub(crate) fn run(&self, args: &[&str]) -> anyhow::Result<(bool, String, String)> {
        let output = self.command().args(args).output()?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// Starts `coffre serve` on a free port and waits until it announces its address.
    pub(crate) fn serve(&self) -> anyhow::Result<Server> {
        self.serve_with_env(&[])
    }

    /// Like [`Site::serve`], with extra environment variables.
    pub(crate) fn serve_with_env(&self, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let mut child = self
            .command()
            .envs(env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(60))
                .context("the server did not announce its URL")?;
            // The bound address, not the public URL: behind a (configured) public URL, tests
            // still talk to this very node.
            let url = serde_json::from_str::<Value>(&line)
                .ok()
                .filter(|event| event["url"].is_string())
                .and_then(|event| event["address"].as_str().map(|a| format!("http://{a}")));
            if let Some(url) = url {
                // Keep draining the pipe so that the server never blocks on a full stdout.
                std::thread::spawn(move || while lines_rx.recv().is_ok() {});
                return Ok(Server { child, url });
            }
        }
    }
}

/// A running `coffre serve`.
pub(crate) struct Server {
    /// The process.
    pub(crate) child: Child,
    /// Its base URL.
    pub(crate) url: String,
}

impl Server {
    /// SIGKILL: no shutdown, no flush, nothing graceful.
    pub(crate) fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A site for several nodes on one fresh PostgreSQL database, each reading `coffre_toml` as its
/// configuration file (its working directory is the data directory), with a `root` admin. Keep
/// the directory as long as the site.
pub(crate) async fn shared_site(coffre_toml: &str) -> anyhow::Result<(Site, tempfile::TempDir)> {
    let data_dir = tempfile::tempdir()?;
    std::fs::write(data_dir.path().join("coffre.toml"), coffre_toml)?;
    let site = Site {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(coffre_store_tests::fresh_database_url().await?),
    };
    site.create_user("root", "admin")?;
    Ok((site, data_dir))
}

/// The JSON object a command printed on standard output, skipping log lines (which carry a
/// `level`).
pub(crate) fn json_line(out: &str) -> anyhow::Result<Value> {
    out.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|value| value.is_object() && value.get("level").is_none())
        .with_context(|| format!("no JSON line in {out:?}"))
}

/// The embedded database file of a data directory.
pub(crate) fn sqlite_path(data_dir: &Path) -> PathBuf {
    data_dir.join("coffre.sqlite3")
}
