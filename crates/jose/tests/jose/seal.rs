//! The secret sealer: round trip, binding to the owner, tampering, and one key per directory.

use coffre_app::ports::SecretSeal;
use coffre_jose::SecretSealer;

#[test]
fn a_sealed_secret_opens_only_for_its_owner_and_untouched() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sealer = SecretSealer::load_or_create(dir.path())?;
    let sealed = sealer.seal(b"12345678901234567890", b"alice")?;
    assert!(!sealed.windows(20).any(|w| w == b"12345678901234567890"));
    assert_eq!(sealer.open(&sealed, b"alice")?, b"12345678901234567890");
    assert!(sealer.open(&sealed, b"bob").is_err(), "bound to its owner");
    let mut tampered = sealed.clone();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    assert!(sealer.open(&tampered, b"alice").is_err());
    assert!(sealer.open(&sealed[..10], b"alice").is_err());
    // Two seals of one secret differ (fresh nonces).
    assert_ne!(
        sealer.seal(b"same", b"alice")?,
        sealer.seal(b"same", b"alice")?
    );
    Ok(())
}

#[test]
fn the_key_is_created_once_and_shared_by_every_loader() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = SecretSealer::load_or_create(dir.path())?;
    let sealed = first.seal(b"secret", b"alice")?;
    // Another node (or a restart) on the same directory opens it.
    let second = SecretSealer::load_or_create(dir.path())?;
    assert_eq!(second.open(&sealed, b"alice")?, b"secret");
    // Another directory is another key.
    let elsewhere = SecretSealer::load_or_create(tempfile::tempdir()?.path())?;
    assert!(elsewhere.open(&sealed, b"alice").is_err());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("secrets.key"))?.permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    Ok(())
}
