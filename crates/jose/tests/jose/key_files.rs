//! The key directory on disk.

use std::os::unix::fs::PermissionsExt as _;

use coffre_jose::KeyRing;

use crate::helpers::{Fixture, LIFETIME};

fn mode(path: &std::path::Path) -> anyhow::Result<u32> {
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
}

fn file_names(dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut names = std::fs::read_dir(dir)?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

#[test]
fn keys_are_private_files_in_a_private_directory() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let dir = fixture.key_dir();
    KeyRing::rotate(&dir)?;

    assert_eq!(mode(&dir)?, 0o700);
    let names = file_names(&dir)?;
    assert_eq!(names.len(), 2, "{names:?}");
    for name in names {
        // Named `<kid>.pem`, with no temporary file left behind.
        assert!(name.ends_with(".pem"), "{name}");
        assert_eq!(mode(&dir.join(name))?, 0o600);
    }
    Ok(())
}

#[test]
fn loading_a_directory_that_has_keys_creates_none() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let before = file_names(&fixture.key_dir())?;

    let again = KeyRing::load_or_create(fixture.key_dir(), LIFETIME)?;

    assert_eq!(file_names(&fixture.key_dir())?, before);
    assert_eq!(again.keys(), fixture.ring().keys());
    Ok(())
}

#[test]
fn files_not_named_after_a_uuidv7_are_ignored() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let dir = fixture.key_dir();
    let kid = fixture.current_kid()?;
    let pem = std::fs::read(dir.join(format!("{kid}.pem")))?;
    std::fs::write(dir.join("backup.pem"), &pem)?;
    std::fs::write(dir.join(format!("{}.pem", kid.to_uppercase())), &pem)?;
    std::fs::write(
        dir.join(format!(
            "{}.pem",
            uuid::Builder::from_random_bytes([7; 16]).into_uuid()
        )),
        &pem,
    )?;
    std::fs::write(dir.join(format!(".{kid}.pem.tmp")), b"half a ke")?;

    fixture.ring().reload()?;

    assert_eq!(fixture.ring().keys().len(), 1);
    Ok(())
}
