//! `Idempotency-Key` handling: the key's syntax, the request fingerprint, entering the
//! in-process in-flight set ([`crate::in_flight`]), and the claim the transaction engine records the response under.
//!
//! Two requests with one key on one node: the second finds the key in the in-flight set and is
//! refused at once (409). On two nodes: both reach the database, and its unique key lets one
//! commit; the other gets `StoreError::Conflict(IdempotencyKey)`, also a 409.

use sha2::{Digest, Sha256};

use crate::in_flight::InFlightGuard;
use crate::ports::{Clock, IdempotencyClaim, Respond, Storage};
use crate::{AppError, Principal, Service};

/// How long a key's record is kept (the contract requires at least 24 h).
pub const IDEMPOTENCY_TTL: time::Duration = time::Duration::hours(48);

/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

/// A key that is empty, too long, or not printable ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to 255 printable ASCII characters")]
pub struct InvalidIdempotencyKey;

/// A valid `Idempotency-Key`: 1..=255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks the key's syntax.
    pub fn parse(text: &str) -> Result<Self, InvalidIdempotencyKey> {
        let printable = text.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if text.is_empty() || text.len() > MAX_KEY_LENGTH || !printable {
            return Err(InvalidIdempotencyKey);
        }
        Ok(IdempotencyKey(text.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request made under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRequest {
    /// The client's key.
    pub key: IdempotencyKey,
    /// What the request asks (see [`fingerprint`]).
    pub fingerprint: String,
}

impl IdempotentRequest {
    /// The request `METHOD path` with `canonical_body` (JSON with sorted keys), under `key`.
    pub fn new(key: IdempotencyKey, method: &str, path: &str, canonical_body: &str) -> Self {
        IdempotentRequest {
            key,
            fingerprint: fingerprint(method, path, canonical_body),
        }
    }
}

/// Hex SHA-256 of `METHOD path\n` followed by the canonical JSON body: the same key sent with
/// another request (other path, other body) is told apart from a retry.
pub fn fingerprint(method: &str, path: &str, canonical_body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_body.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The scope keys are unique in: one per user, so clients never collide.
pub fn scope_of(caller: &Principal) -> String {
    format!("user:{}", caller.user_id.0)
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Enters the in-flight set for the caller's key: keep the guard until the engine has
    /// answered.
    pub(crate) fn enter_in_flight(
        &self,
        caller: &Principal,
        request: &IdempotentRequest,
    ) -> Result<InFlightGuard, AppError> {
        self.in_flight
            .enter(&scope_of(caller), request.key.as_str())
    }

    /// The claim the engine records `respond`'s response under.
    pub(crate) fn claim(
        &self,
        caller: &Principal,
        request: IdempotentRequest,
        respond: Respond,
    ) -> IdempotencyClaim {
        IdempotencyClaim {
            scope: scope_of(caller),
            key: request.key.0,
            fingerprint: request.fingerprint,
            expires_at: self.clock.now() + IDEMPOTENCY_TTL,
            respond,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("with space ~").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("tab\there").is_err());
        assert!(IdempotencyKey::parse("clé").is_err());
    }

    #[test]
    fn fingerprints_tell_paths_and_bodies_apart() {
        let a = fingerprint("POST", "/v1/transactions", "{\"a\":1}");
        assert_eq!(a.len(), 64);
        assert_eq!(a, fingerprint("POST", "/v1/transactions", "{\"a\":1}"));
        assert_ne!(a, fingerprint("POST", "/v1/transactions", "{\"a\":2}"));
        assert_ne!(
            a,
            fingerprint("POST", "/v1/transactions/batch", "{\"a\":1}")
        );
    }
}
