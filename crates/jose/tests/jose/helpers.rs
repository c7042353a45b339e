//! Fixtures and hand-built tokens shared by the tests.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use coffre_app::ports::{AccessClaims, IdClaims, TokenSigner as _};
use coffre_jose::{JwtSigner, KeyRing};
use serde_json::Value;
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub(crate) const ISSUER: &str = "https://bank.example";
pub(crate) const AUDIENCE: &str = "https://bank.example/v1";
pub(crate) const LIFETIME: Duration = Duration::minutes(15);

/// A signer over a fresh key directory (removed when dropped).
pub(crate) struct Fixture {
    pub(crate) dir: TempDir,
    pub(crate) signer: JwtSigner,
}

impl Fixture {
    pub(crate) fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let signer = signer_over(&dir.path().join("keys"))?;
        Ok(Self { dir, signer })
    }

    pub(crate) fn key_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("keys")
    }

    pub(crate) fn ring(&self) -> &Arc<KeyRing> {
        self.signer.key_ring()
    }

    /// The id of the key that signs now.
    pub(crate) fn current_kid(&self) -> anyhow::Result<String> {
        let keys = self.ring().keys();
        let current = keys.first().ok_or_else(|| anyhow::anyhow!("empty ring"))?;
        Ok(current.kid.clone())
    }

    pub(crate) fn sign(&self, claims: &AccessClaims) -> anyhow::Result<String> {
        self.signer.sign_access_token(claims)
    }
}

pub(crate) fn signer_over(dir: &std::path::Path) -> anyhow::Result<JwtSigner> {
    let ring = Arc::new(KeyRing::load_or_create(dir, LIFETIME)?);
    Ok(JwtSigner::new(ring, ISSUER, AUDIENCE))
}

/// Claims as the service would issue them at `now`.
pub(crate) fn access_claims(now: OffsetDateTime) -> AccessClaims {
    let now = now.unix_timestamp();
    AccessClaims {
        iss: ISSUER.to_owned(),
        sub: Uuid::now_v7().to_string(),
        aud: AUDIENCE.to_owned(),
        exp: now + LIFETIME.whole_seconds(),
        iat: now,
        nbf: now,
        jti: Uuid::now_v7().to_string(),
        scope: "openid accounts:read".to_owned(),
        roles: vec!["customer".to_owned()],
        amr: vec!["pwd".to_owned(), "otp".to_owned()],
        client_id: Uuid::now_v7().to_string(),
        auth_time: Some(now),
        fid: Some(Uuid::now_v7().to_string()),
    }
}

pub(crate) fn id_claims(now: OffsetDateTime) -> IdClaims {
    let now = now.unix_timestamp();
    IdClaims {
        iss: ISSUER.to_owned(),
        sub: Uuid::now_v7().to_string(),
        // An id token's audience is the client; make it the API to show `typ` alone refuses it.
        aud: AUDIENCE.to_owned(),
        exp: now + LIFETIME.whole_seconds(),
        iat: now,
        auth_time: now,
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        amr: vec!["pwd".to_owned()],
        preferred_username: Some("alice".to_owned()),
    }
}

/// A token's parts: header and payload as JSON, signature as sent.
pub(crate) struct Parts {
    pub(crate) header: Value,
    pub(crate) payload: Value,
    pub(crate) signature: String,
}

pub(crate) fn parts(token: &str) -> anyhow::Result<Parts> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("not a compact JWS: {token}");
    };
    Ok(Parts {
        header: serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?,
        payload: serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?,
        signature: signature.to_owned(),
    })
}

/// base64url (no padding) of a JSON value, as a token part.
pub(crate) fn encode_part(value: &Value) -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(value)?))
}

/// A compact JWS with exactly this header, signed by `key` with `algorithm`.
pub(crate) fn sign_raw(
    header: &Value,
    payload: &Value,
    key: &jsonwebtoken::EncodingKey,
    algorithm: jsonwebtoken::Algorithm,
) -> anyhow::Result<String> {
    let signing_input = format!("{}.{}", encode_part(header)?, encode_part(payload)?);
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, algorithm)?;
    Ok(format!("{signing_input}.{signature}"))
}

/// A P-256 private key made outside any Coffre key directory, as PKCS#8 PEM.
pub(crate) fn foreign_key_pem() -> anyhow::Result<String> {
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
    let pem = p256::SecretKey::random(&mut rand_core::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(pem.to_string())
}
