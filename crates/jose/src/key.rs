//! One ES256 signing key: its id, when it was made, and the forms jsonwebtoken and the JWKS need.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::SecretKey;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rand_core::OsRng;
use time::OffsetDateTime;
use uuid::Uuid;

/// A loaded signing key. The private half only lives in `encoding`.
pub(crate) struct SigningKey {
    /// The key id: a UUIDv7, so ids sort by creation time.
    pub(crate) kid: Uuid,
    /// The UUIDv7's timestamp.
    pub(crate) created_at: OffsetDateTime,
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    /// The public point's coordinates, base64url without padding (JWK `x` and `y`).
    pub(crate) x: String,
    pub(crate) y: String,
}

// Hand-written so the private key can never end up in a log line.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PKCS#8 PEM private key stored under `kid`.
    pub(crate) fn from_pem(kid: Uuid, pem: &str) -> anyhow::Result<Self> {
        let secret = SecretKey::from_pkcs8_pem(pem)
            .map_err(|error| anyhow::anyhow!("failed to parse P-256 key {kid}: {error}"))?;
        let der = secret
            .to_pkcs8_der()
            .map_err(|error| anyhow::anyhow!("failed to encode P-256 key {kid}: {error}"))?;
        let point = secret.public_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            anyhow::bail!("P-256 key {kid} has no affine coordinates");
        };
        Ok(Self {
            kid,
            created_at: created_at(kid)?,
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            // The verifier takes the uncompressed SEC1 point.
            decoding: DecodingKey::from_ec_der(point.as_bytes()),
            x: URL_SAFE_NO_PAD.encode(x),
            y: URL_SAFE_NO_PAD.encode(y),
        })
    }
}

/// A fresh P-256 private key as PKCS#8 PEM (zeroed when dropped).
pub(crate) fn generate_pem() -> anyhow::Result<p256::pkcs8::der::zeroize::Zeroizing<String>> {
    SecretKey::random(&mut OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| anyhow::anyhow!("failed to encode a new P-256 key: {error}"))
}

/// When the key was made: the timestamp inside its UUIDv7 id.
pub(crate) fn created_at(kid: Uuid) -> anyhow::Result<OffsetDateTime> {
    let timestamp = kid
        .get_timestamp()
        .with_context(|| format!("key id {kid} is not a UUIDv7"))?;
    let (seconds, nanoseconds) = timestamp.to_unix();
    let seconds = i64::try_from(seconds).context("key timestamp out of range")?;
    let at = OffsetDateTime::from_unix_timestamp(seconds).context("key timestamp out of range")?;
    Ok(at + time::Duration::nanoseconds(i64::from(nanoseconds)))
}
