//! The key directory on disk: one `<kid>.pem` file per key, private to Coffre's user.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use uuid::{Uuid, Version};

use crate::key::{SigningKey, generate_pem};

const EXTENSION: &str = "pem";

/// Creates the directory (0700) if it is missing; warns when an existing one is open to others.
pub(crate) fn ensure(dir: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("failed to create key directory {}", dir.display()))?;
    let mode = fs::metadata(dir)
        .with_context(|| format!("failed to inspect key directory {}", dir.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "key directory is accessible to other users");
    }
    Ok(())
}

/// The ids of the keys in the directory. Files that are not `<UUIDv7>.pem` (temporary files,
/// backups) are skipped.
pub(crate) fn list(dir: &Path) -> anyhow::Result<Vec<Uuid>> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("failed to list keys in {}", dir.display()))?;
    let mut kids = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("failed to list keys in {}", dir.display()))?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
            continue;
        }
        match kid_of(&path) {
            Some(kid) => kids.push(kid),
            None => {
                tracing::warn!(file = %path.display(), "ignoring a key file not named <UUIDv7>.pem")
            }
        }
    }
    Ok(kids)
}

/// The key id a file name holds, in its canonical (lower-case, hyphenated) spelling only, so a
/// kid names exactly one file.
fn kid_of(path: &Path) -> Option<Uuid> {
    let stem = path.file_stem()?.to_str()?;
    let kid = Uuid::try_parse(stem).ok()?;
    let canonical = kid.hyphenated().to_string() == stem;
    (canonical && kid.get_version() == Some(Version::SortRand)).then_some(kid)
}

/// Reads and parses one key.
pub(crate) fn read(dir: &Path, kid: Uuid) -> anyhow::Result<SigningKey> {
    let path = path_of(dir, kid);
    let file = File::open(&path).with_context(|| format!("failed to open {}", path.display()))?;
    let mode = file
        .metadata()
        .with_context(|| format!("failed to inspect {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(file = %path.display(), mode = format!("{mode:o}"), "signing key is readable by other users");
    }
    let pem = std::io::read_to_string(file)
        .with_context(|| format!("failed to read {}", path.display()))?;
    SigningKey::from_pem(kid, &pem)
}

/// Generates a key and writes it under a fresh UUIDv7. The file appears whole or not at all:
/// it is written (0600) and synced under a temporary name, then renamed.
pub(crate) fn write_new(dir: &Path) -> anyhow::Result<Uuid> {
    let kid = Uuid::now_v7();
    write(dir, kid, &generate_pem()?)?;
    Ok(kid)
}

/// Writes `pem` as key `kid` (see [`write_new`]).
fn write(dir: &Path, kid: Uuid, pem: &str) -> anyhow::Result<()> {
    let target = path_of(dir, kid);
    // A leading dot and a second extension keep a leftover from a crash out of `list`.
    let temporary = dir.join(format!(".{kid}.{EXTENSION}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("failed to create {}", temporary.display()))?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write {}", temporary.display()))?;
    fs::rename(&temporary, &target)
        .with_context(|| format!("failed to move the new key to {}", target.display()))?;
    // Syncing the directory makes the rename itself durable.
    File::open(dir)
        .and_then(|directory| directory.sync_all())
        .with_context(|| format!("failed to sync key directory {}", dir.display()))?;
    Ok(())
}

fn path_of(dir: &Path, kid: Uuid) -> PathBuf {
    dir.join(format!("{kid}.{EXTENSION}"))
}
