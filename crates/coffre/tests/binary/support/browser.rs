//! Running the headless-Chromium scripts of `tests/browser` (Node.js with `playwright-core`,
//! Debian's `chromium`) from a Rust test, and the TOTP codes a test user's authenticator shows.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use coffre_domain::mfa::TotpSecret;

/// How to get what the browser tests need, for the error messages.
const HOW_TO_INSTALL: &str = "run ./scripts/test once (it installs them), or by hand: \
    `apt-get install chromium` and `npm ci` in tests/browser";

/// The workspace's root directory.
pub(crate) fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .and_then(Path::parent)
        .context("the workspace root is two levels above crates/coffre")?;
    Ok(root.canonicalize()?)
}

/// The Chromium binary the scripts drive: `CHROMIUM`, or Debian's.
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Checks that Node.js, the scripts' npm packages and Chromium are installed, and returns the
/// path of the script `name` in `tests/browser`. Fails (never skips) when something is missing.
pub(crate) fn script(name: &str) -> anyhow::Result<PathBuf> {
    let dir = workspace_root()?.join("tests/browser");
    let node = std::process::Command::new("node").arg("--version").output();
    anyhow::ensure!(
        node.as_ref().is_ok_and(|output| output.status.success()),
        "Node.js (`node`) is not installed or does not run ({node:?}): {HOW_TO_INSTALL}"
    );
    anyhow::ensure!(
        dir.join("node_modules/playwright-core/package.json")
            .is_file(),
        "{} has no node_modules/playwright-core: {HOW_TO_INSTALL}",
        dir.display()
    );
    let chromium = chromium();
    anyhow::ensure!(
        chromium.is_file(),
        "Chromium is not installed at {}: {HOW_TO_INSTALL}",
        chromium.display()
    );
    let script = dir.join(name);
    anyhow::ensure!(script.is_file(), "{} is missing", script.display());
    Ok(script)
}

/// Runs `node script` with `env`, killed after `timeout`. Returns its standard output when it
/// exits 0; otherwise fails with its exit status and both outputs.
pub(crate) async fn run_script(
    script: &Path,
    env: &[(&str, &str)],
    timeout: Duration,
) -> anyhow::Result<String> {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .current_dir(script.parent().context("the script's directory")?)
        .env("CHROMIUM", chromium())
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .with_context(|| format!("{} did not finish within {timeout:?}", script.display()))??;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(
        output.status.success(),
        "{} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

/// A fresh (emptied) directory for a test's screenshots, under `test-artifacts/browser/` at the
/// workspace root (kept after the run, ignored by git). Its path is written to the test log.
pub(crate) fn screenshot_dir(test: &str) -> anyhow::Result<PathBuf> {
    let dir = workspace_root()?.join("test-artifacts/browser").join(test);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    // Straight to the process's stderr: shown even when the test passes (libtest captures only
    // the print macros).
    writeln!(std::io::stderr(), "browser screenshots: {}", dir.display())?;
    Ok(dir)
}

/// Checks that `path` is a non-empty PNG file.
pub(crate) fn assert_png(path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("{} is missing", path.display()))?;
    anyhow::ensure!(
        bytes.len() > 8 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG ({} bytes)",
        path.display(),
        bytes.len()
    );
    Ok(())
}

/// The TOTP code an authenticator app shows at `unix_time` for a base32 secret.
pub(crate) fn totp_code(secret_base32: &str, unix_time: u64) -> anyhow::Result<String> {
    let normalised = secret_base32.trim_end_matches('=').to_ascii_uppercase();
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &normalised)
        .with_context(|| format!("not base32: {secret_base32}"))?;
    Ok(TotpSecret::from_bytes(bytes)?.code_at(unix_time)?)
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> anyhow::Result<u64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs())
}
