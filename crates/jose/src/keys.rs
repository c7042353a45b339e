//! The key ring: Coffre's ES256 signing keys, loaded from the key directory.
//!
//! The newest key signs. An older key still verifies (and is published) for as long as a token
//! it signed can be alive: until the next newer key was made, plus one token lifetime, plus
//! [`RETENTION_LEEWAY`]. After that it is dropped from the JWKS and refused, though its file may
//! stay on disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use anyhow::Context as _;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::key::SigningKey;
use crate::key_dir;

/// How long past the last possible expiry an old key is kept: clock skew between nodes, and the
/// seconds before every node has reloaded the directory and stopped signing with it.
pub const RETENTION_LEEWAY: Duration = Duration::seconds(60);

/// What the ring knows about one key (for logs and the admin command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id (`kid`), a UUIDv7.
    pub kid: String,
    /// When the key was made (its UUIDv7 timestamp).
    pub created_at: OffsetDateTime,
    /// Until when tokens it signed are accepted; `None` for the newest key, which signs.
    pub accepted_until: Option<OffsetDateTime>,
}

/// The signing keys of one key directory. Shared behind an `Arc`; [`KeyRing::reload`] swaps the
/// whole set at once, so a reader always sees one consistent set.
#[derive(Debug)]
pub struct KeyRing {
    dir: PathBuf,
    token_lifetime: Duration,
    keys: RwLock<Arc<KeySet>>,
}

/// The loaded keys. Never empty: there is always a current key.
#[derive(Debug)]
pub(crate) struct KeySet {
    /// The newest key: the one that signs.
    pub(crate) current: Arc<SigningKey>,
    /// The other keys, newest first, each with the last instant it is accepted.
    pub(crate) older: Vec<(Arc<SigningKey>, OffsetDateTime)>,
}

impl KeyRing {
    /// Loads every `<kid>.pem` in `dir`, creating the directory (0700) and a first key if there
    /// is none. `token_lifetime` is the longest life of a token these keys sign; it decides how
    /// long a superseded key stays valid.
    pub fn load_or_create(dir: impl AsRef<Path>, token_lifetime: Duration) -> anyhow::Result<Self> {
        let dir = dir.as_ref();
        anyhow::ensure!(
            token_lifetime.is_positive(),
            "token lifetime must be positive"
        );
        key_dir::ensure(dir)?;
        if key_dir::list(dir)?.is_empty() {
            let kid = key_dir::write_new(dir)?;
            tracing::info!(%kid, dir = %dir.display(), "created the first token signing key");
        }
        let keys = load(dir, token_lifetime, None)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            token_lifetime,
            keys: RwLock::new(Arc::new(keys)),
        })
    }

    /// Writes a new key into `dir` and returns its `kid`. Running servers sign with it once they
    /// have reloaded; the keys it supersedes stay valid for their retention.
    pub fn rotate(dir: impl AsRef<Path>) -> anyhow::Result<String> {
        let dir = dir.as_ref();
        key_dir::ensure(dir)?;
        let kid = key_dir::write_new(dir)?;
        tracing::info!(%kid, dir = %dir.display(), "created a new token signing key");
        Ok(kid.to_string())
    }

    /// Re-reads the directory to pick up keys another process (or node) added. Keys already
    /// loaded are not read again. On error the current set stays in place.
    pub fn reload(&self) -> anyhow::Result<()> {
        let previous = self.snapshot();
        let keys = load(&self.dir, self.token_lifetime, Some(&previous))?;
        if keys.kids().ne(previous.kids()) {
            tracing::info!(current = %keys.current.kid, count = keys.older.len() + 1, "reloaded token signing keys");
        }
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        Ok(())
    }

    /// Every loaded key, newest first, including those no longer accepted.
    pub fn keys(&self) -> Vec<KeyInfo> {
        let keys = self.snapshot();
        let current = info(&keys.current, None);
        let older = keys
            .older
            .iter()
            .map(|(key, until)| info(key, Some(*until)));
        std::iter::once(current).chain(older).collect()
    }

    /// The directory the keys come from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current set. The lock is held only to clone the `Arc`; a poisoned lock still holds a
    /// whole set, since writers only ever replace it.
    pub(crate) fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }
}

impl KeySet {
    /// Orders `keys` newest first and works out each superseded key's retention.
    fn new(mut keys: Vec<Arc<SigningKey>>, token_lifetime: Duration) -> anyhow::Result<Self> {
        keys.sort_by_key(|key| std::cmp::Reverse(key.kid));
        let mut keys = keys.into_iter();
        let current = keys.next().context("no token signing key found")?;
        let retention = token_lifetime
            .checked_add(RETENTION_LEEWAY)
            .context("token lifetime too long")?;
        let mut newer_created_at = current.created_at;
        let mut older = Vec::with_capacity(keys.len());
        for key in keys {
            let until = newer_created_at
                .checked_add(retention)
                .context("token lifetime too long")?;
            newer_created_at = key.created_at;
            older.push((key, until));
        }
        Ok(Self { current, older })
    }

    /// The keys that verify tokens at `now`, newest first.
    pub(crate) fn accepted(&self, now: OffsetDateTime) -> impl Iterator<Item = &Arc<SigningKey>> {
        let older = self.older.iter().filter(move |(_, until)| now <= *until);
        std::iter::once(&self.current).chain(older.map(|(key, _)| key))
    }

    fn kids(&self) -> impl Iterator<Item = Uuid> + '_ {
        std::iter::once(self.current.kid).chain(self.older.iter().map(|(key, _)| key.kid))
    }

    fn get(&self, kid: Uuid) -> Option<&Arc<SigningKey>> {
        std::iter::once(&self.current)
            .chain(self.older.iter().map(|(key, _)| key))
            .find(|key| key.kid == kid)
    }
}

/// Loads the keys in `dir`, reusing those `previous` already holds (key files never change).
fn load(dir: &Path, token_lifetime: Duration, previous: Option<&KeySet>) -> anyhow::Result<KeySet> {
    let keys = key_dir::list(dir)?
        .into_iter()
        .map(|kid| match previous.and_then(|set| set.get(kid)) {
            Some(key) => Ok(Arc::clone(key)),
            None => key_dir::read(dir, kid).map(Arc::new),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    KeySet::new(keys, token_lifetime)
        .with_context(|| format!("failed to load token signing keys from {}", dir.display()))
}

fn info(key: &SigningKey, accepted_until: Option<OffsetDateTime>) -> KeyInfo {
    KeyInfo {
        kid: key.kid.to_string(),
        created_at: key.created_at,
        accepted_until,
    }
}
