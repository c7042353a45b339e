//! Verifying an access token, step by step: each step refuses with its own reason.
//!
//! The header is read by hand rather than by jsonwebtoken, so that an algorithm it does not
//! know (`none`) is refused as an algorithm, not as malformed JSON, and so that nothing in the
//! header but `alg`, `kid`, `typ` and `crit` is ever looked at: the key comes from the ring only,
//! never from `jwk`, `jku` or `x5u`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use coffre_app::ports::{AccessClaims, TokenRejected};
use jsonwebtoken::Algorithm;
use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::key::SigningKey;
use crate::keys::KeySet;

/// Allowed clock skew on `exp` and `nbf`, in seconds.
pub(crate) const CLOCK_SKEW_SECONDS: i64 = 30;

/// Longer than any token Coffre signs; a bound on the work a presented token can cause.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the token must have been issued for.
pub(crate) struct Expected<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
}

/// The three parts of a compact JWS.
struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

#[derive(Deserialize)]
struct ProtectedHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// The claims as they arrive: `aud` may be a string or an array (RFC 7519 §4.1.3).
#[derive(Deserialize)]
struct WireClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    scope: String,
    roles: Vec<String>,
    amr: Vec<String>,
    client_id: String,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    fid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Verifies `token` against the keys accepted at `now` and returns its claims.
pub(crate) fn access_token(
    keys: &KeySet,
    expected: &Expected<'_>,
    token: &str,
    now: OffsetDateTime,
) -> Result<AccessClaims, TokenRejected> {
    let parts = split(token)?;
    let header: ProtectedHeader = parse_json(&decode(parts.header)?)?;
    // Decoded before the signature is checked, so that bad base64 anywhere is malformed; the
    // JSON inside is only parsed once the signature vouches for it.
    let payload = decode(parts.payload)?;
    if header.alg != "ES256" {
        return Err(TokenRejected::Algorithm);
    }
    // No extension is understood, so any critical one must be refused (RFC 7515 §4.1.11).
    if header.crit.is_some() {
        return Err(TokenRejected::Malformed);
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| accepted_key(keys, kid, now))
        .ok_or(TokenRejected::UnknownKey)?;
    if !is_access_token_type(header.typ.as_deref()) {
        return Err(TokenRejected::WrongType);
    }
    check_signature(&parts, key)?;
    check_claims(parse_json(&payload)?, expected, now)
}

fn split(token: &str) -> Result<Parts<'_>, TokenRejected> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenRejected::Malformed);
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok(Parts {
            header,
            payload,
            signature,
        }),
        _ => Err(TokenRejected::Malformed),
    }
}

fn decode(part: &str) -> Result<Vec<u8>, TokenRejected> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenRejected::Malformed)
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, TokenRejected> {
    serde_json::from_slice(bytes).map_err(|_| TokenRejected::Malformed)
}

/// The key named `kid`, if the ring accepts it at `now`. Only the canonical spelling of the id
/// matches.
fn accepted_key<'k>(keys: &'k KeySet, kid: &str, now: OffsetDateTime) -> Option<&'k SigningKey> {
    let kid = Uuid::try_parse(kid)
        .ok()
        .filter(|id| id.hyphenated().to_string() == kid)?;
    keys.accepted(now)
        .find(|key| key.kid == kid)
        .map(AsRef::as_ref)
}

/// RFC 9068 §4: `at+jwt`, or the full media type, compared case-insensitively.
fn is_access_token_type(typ: Option<&str>) -> bool {
    typ.is_some_and(|typ| {
        typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
    })
}

fn check_signature(parts: &Parts<'_>, key: &SigningKey) -> Result<(), TokenRejected> {
    // The signing input is the first two parts exactly as sent.
    let signing_input = format!("{}.{}", parts.header, parts.payload);
    match jsonwebtoken::crypto::verify(
        parts.signature,
        signing_input.as_bytes(),
        &key.decoding,
        Algorithm::ES256,
    ) {
        Ok(true) => Ok(()),
        Ok(false) => Err(TokenRejected::Signature),
        Err(error) => match error.kind() {
            ErrorKind::Base64(_) => Err(TokenRejected::Malformed),
            _ => {
                tracing::error!(kid = %key.kid, %error, "a signing key cannot verify");
                Err(TokenRejected::Signature)
            }
        },
    }
}

fn check_claims(
    claims: WireClaims,
    expected: &Expected<'_>,
    now: OffsetDateTime,
) -> Result<AccessClaims, TokenRejected> {
    if claims.iss != expected.issuer {
        return Err(TokenRejected::WrongIssuer);
    }
    let audience_matches = match &claims.aud {
        Audience::One(aud) => aud == expected.audience,
        Audience::Many(auds) => auds.iter().any(|aud| aud == expected.audience),
    };
    if !audience_matches {
        return Err(TokenRejected::WrongAudience);
    }
    let now = now.unix_timestamp();
    if claims.exp < now.saturating_sub(CLOCK_SKEW_SECONDS) {
        return Err(TokenRejected::Expired);
    }
    if claims.nbf > now.saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(TokenRejected::NotYetValid);
    }
    Ok(AccessClaims {
        iss: claims.iss,
        sub: claims.sub,
        aud: expected.audience.to_owned(),
        exp: claims.exp,
        iat: claims.iat,
        nbf: claims.nbf,
        jti: claims.jti,
        scope: claims.scope,
        roles: claims.roles,
        amr: claims.amr,
        client_id: claims.client_id,
        auth_time: claims.auth_time,
        fid: claims.fid,
    })
}
