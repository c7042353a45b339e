//! The `TokenSigner` adapter: signs access and id tokens with the ring's current key, verifies
//! access tokens against the keys it still accepts, and publishes those keys as a JWKS.

use std::sync::Arc;

use anyhow::Context as _;
use coffre_app::ports::{AccessClaims, IdClaims, TokenRejected, TokenSigner};
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::keys::KeyRing;
use crate::verify::{self, Expected};

/// The `typ` of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// The `typ` of an id token.
pub const ID_TOKEN_TYPE: &str = "JWT";

/// Coffre's ES256 token signer over a [`KeyRing`].
#[derive(Debug, Clone)]
pub struct JwtSigner {
    keys: Arc<KeyRing>,
    issuer: String,
    audience: String,
}

impl JwtSigner {
    /// A signer whose access tokens are issued by `issuer` (Coffre's public URL) for
    /// `audience` (the API). Keep a clone of `keys` to reload it periodically.
    pub fn new(keys: Arc<KeyRing>, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            keys,
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// The key ring the signer uses.
    pub fn key_ring(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// The JWKS as of `now`: the keys accepted at that instant, newest first.
    pub fn jwks_at(&self, now: OffsetDateTime) -> serde_json::Value {
        let keys = self.keys.snapshot();
        let jwks: Vec<_> = keys
            .accepted(now)
            .map(|key| {
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": key.x,
                    "y": key.y,
                    "kid": key.kid.to_string(),
                    "use": "sig",
                    "alg": "ES256",
                })
            })
            .collect();
        json!({ "keys": jwks })
    }

    fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> anyhow::Result<String> {
        let keys = self.keys.snapshot();
        let key = &keys.current;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(key.kid.to_string());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .with_context(|| format!("failed to sign a {typ} token with key {}", key.kid))
    }
}

impl TokenSigner for JwtSigner {
    fn sign_access_token(&self, claims: &AccessClaims) -> anyhow::Result<String> {
        self.sign(ACCESS_TOKEN_TYPE, claims)
    }

    fn sign_id_token(&self, claims: &IdClaims) -> anyhow::Result<String> {
        self.sign(ID_TOKEN_TYPE, claims)
    }

    fn verify_access_token(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessClaims, TokenRejected> {
        let expected = Expected {
            issuer: &self.issuer,
            audience: &self.audience,
        };
        verify::access_token(&self.keys.snapshot(), &expected, token, now)
    }

    /// Read at the system clock: the JWKS is what clients fetch now.
    fn jwks(&self) -> serde_json::Value {
        self.jwks_at(OffsetDateTime::now_utc())
    }
}
