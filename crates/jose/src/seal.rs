//! The key that seals secrets stored in the database (TOTP shared secrets): 256 random bits in
//! `secrets.key` beside the signing keys, created on first start, and XChaCha20-Poly1305 over
//! it. A sealed value is `version (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`; 192-bit random
//! nonces never repeat in practice, so no counter has to be kept across nodes.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::Context as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use coffre_app::ports::SecretSeal;
use rand_core::{OsRng, RngCore};

use crate::key_dir;

const FILE: &str = "secrets.key";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const VERSION: u8 = 1;

/// Seals and opens secrets with the key of a key directory. Its `Debug` shows no key.
pub struct SecretSealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSealer(..)")
    }
}

impl SecretSealer {
    /// Loads `dir/secrets.key`, creating it (0600) when missing. Nodes starting together on
    /// one shared directory agree: the file is linked into place only if absent, and whoever
    /// loses the race reads the winner's key.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        key_dir::ensure(dir)?;
        let path = dir.join(FILE);
        if !path.exists() {
            create(dir)?;
        }
        let mut key = Vec::with_capacity(KEY_BYTES);
        File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut key))
            .with_context(|| format!("failed to read {}", path.display()))?;
        anyhow::ensure!(
            key.len() == KEY_BYTES,
            "{} must hold exactly {KEY_BYTES} bytes",
            path.display()
        );
        Ok(SecretSealer::new(&key))
    }

    /// A sealer over a raw 256-bit key (tests).
    pub fn new(key: &[u8]) -> Self {
        SecretSealer {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }
}

/// Writes a fresh key to a temporary file and links it into place unless a key is there.
fn create(dir: &Path) -> anyhow::Result<()> {
    let mut key = [0u8; KEY_BYTES];
    OsRng.fill_bytes(&mut key);
    let temporary = dir.join(format!(".{FILE}.{}.tmp", uuid::Uuid::now_v7()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("failed to create {}", temporary.display()))?;
    file.write_all(&key)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write {}", temporary.display()))?;
    let linked = fs::hard_link(&temporary, dir.join(FILE));
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            File::open(dir)
                .and_then(|directory| directory.sync_all())
                .with_context(|| format!("failed to sync {}", dir.display()))?;
            tracing::info!(dir = %dir.display(), "generated the key that seals stored secrets");
            Ok(())
        }
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error).with_context(|| format!("failed to create {FILE}")),
    }
}

impl SecretSeal for SecretSealer {
    fn seal(&self, secret: &[u8], owner: &[u8]) -> Result<Vec<u8>, anyhow::Error> {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: owner,
                },
            )
            .map_err(|_| anyhow::anyhow!("failed to seal a secret"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    fn open(&self, sealed: &[u8], owner: &[u8]) -> Result<Vec<u8>, anyhow::Error> {
        let (version, rest) = sealed.split_first().context("an empty sealed secret")?;
        anyhow::ensure!(
            *version == VERSION,
            "unknown sealed-secret version {version}"
        );
        anyhow::ensure!(rest.len() > NONCE_BYTES, "a truncated sealed secret");
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner,
                },
            )
            .map_err(|_| anyhow::anyhow!("a sealed secret does not open with this key and owner"))
    }
}
