//! The database's directory and files are private to Coffre's user: they hold every customer's
//! identity and money, so no other local user may read them.
//!
//! SQLite creates a missing database file with mode 0644 and gives its `-wal` and `-shm` files
//! the database file's mode. So the file is created here, 0600, before SQLite opens it, and a
//! database left readable by others (by an older Coffre, or a copy) is closed to them at start.

use std::fs::{self, DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;

/// The mode of directories Coffre creates for its data.
const PRIVATE_DIRECTORY: u32 = 0o700;
/// The mode of the database and its companion files.
const PRIVATE_FILE: u32 = 0o600;
/// SQLite's companion files, beside the database.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates `directory` and its missing parents, each 0700. An existing directory is left as
/// it is (its owner chose its mode), with a warning when others may enter it.
pub fn create_private_directory(directory: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIRECTORY)
        .create(directory)
        .with_context(|| format!("failed to create the directory {}", directory.display()))?;
    let mode = mode_of(directory)?;
    if mode & 0o077 != 0 {
        tracing::warn!(
            directory = %directory.display(),
            mode = format!("{mode:o}"),
            "the data directory is open to other users"
        );
    }
    Ok(())
}

/// Makes sure the database file at `path` exists with mode 0600, and that it and its
/// companion files are not open to other users.
pub(crate) fn prepare_database_file(path: &Path) -> anyhow::Result<()> {
    if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_directory(directory)?;
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(PRIVATE_FILE)
        .open(path)
        .with_context(|| format!("failed to create the database file {}", path.display()))?;
    close_to_others(path)?;
    for suffix in COMPANIONS {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let companion = Path::new(&name);
        if companion.exists() {
            close_to_others(companion)?;
        }
    }
    Ok(())
}

/// Sets `path` to 0600 when group or others have any right to it.
fn close_to_others(path: &Path) -> anyhow::Result<()> {
    let mode = mode_of(path)?;
    if mode & 0o077 != 0 {
        tracing::warn!(file = %path.display(), mode = format!("{mode:o}"), "database file was open to other users: now 0600");
        fs::set_permissions(path, fs::Permissions::from_mode(PRIVATE_FILE))
            .with_context(|| format!("failed to restrict {}", path.display()))?;
    }
    Ok(())
}

fn mode_of(path: &Path) -> anyhow::Result<u32> {
    Ok(fs::metadata(path)
        .with_context(|| format!("failed to inspect {}", path.display()))?
        .permissions()
        .mode()
        & 0o7777)
}
