//! Every way a presented access token is refused, each with its reason.

use coffre_app::ports::{TokenRejected, TokenSigner as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::helpers::{
    Fixture, LIFETIME, access_claims, encode_part, foreign_key_pem, id_claims, parts, sign_raw,
    signer_over,
};
use crate::signing::resign;

fn verify(fixture: &Fixture, token: &str, now: OffsetDateTime) -> Result<(), TokenRejected> {
    fixture.signer.verify_access_token(token, now).map(|_| ())
}

/// The token with its header replaced, payload and signature kept.
fn with_header(token: &str, header: &serde_json::Value) -> anyhow::Result<String> {
    let (_, rest) = token
        .split_once('.')
        .ok_or_else(|| anyhow::anyhow!("no dot"))?;
    Ok(format!("{}.{rest}", encode_part(header)?))
}

#[test]
fn an_unsigned_token_with_alg_none_is_refused_for_its_algorithm() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let header = json!({ "alg": "none", "typ": "at+jwt", "kid": fixture.current_kid()? });
    let payload = serde_json::to_value(access_claims(now))?;
    let token = format!("{}.{}.", encode_part(&header)?, encode_part(&payload)?);

    assert_eq!(verify(&fixture, &token, now), Err(TokenRejected::Algorithm));
    Ok(())
}

#[test]
fn an_hs256_token_keyed_with_the_public_key_is_refused_for_its_algorithm() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    // The attacker knows only what the JWKS publishes.
    let jwk = &fixture.signer.jwks()["keys"][0];
    let mut point = vec![0x04];
    for coordinate in ["x", "y"] {
        let text = jwk[coordinate].as_str().unwrap_or_default();
        point.extend(base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            text,
        )?);
    }
    let public = p256::PublicKey::from_sec1_bytes(&point)?;
    let pem = public
        .to_public_key_pem(LineEnding::LF)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let der = public
        .to_public_key_der()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(fixture.current_kid()?);

    for secret in [pem.as_bytes(), der.as_bytes(), point.as_slice()] {
        let key = EncodingKey::from_secret(secret);
        let token = jsonwebtoken::encode(&header, &access_claims(now), &key)?;
        assert_eq!(verify(&fixture, &token, now), Err(TokenRejected::Algorithm));
    }
    Ok(())
}

#[test]
fn a_token_naming_a_key_not_in_the_ring_is_refused_as_unknown_key() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let token = fixture.sign(&access_claims(now))?;
    let mut header = parts(&token)?.header;

    header["kid"] = json!(Uuid::now_v7().to_string());
    let unknown = with_header(&token, &header)?;
    // The same id spelled differently is not the same key id.
    header["kid"] = json!(fixture.current_kid()?.to_uppercase());
    let respelled = with_header(&token, &header)?;

    assert_eq!(
        verify(&fixture, &unknown, now),
        Err(TokenRejected::UnknownKey)
    );
    assert_eq!(
        verify(&fixture, &respelled, now),
        Err(TokenRejected::UnknownKey)
    );
    Ok(())
}

#[test]
fn a_token_without_kid_is_refused_as_unknown_key() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let token = fixture.sign(&access_claims(now))?;
    let mut header = parts(&token)?.header;
    header
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("header is not an object"))?
        .remove("kid");

    let token = with_header(&token, &header)?;

    assert_eq!(
        verify(&fixture, &token, now),
        Err(TokenRejected::UnknownKey)
    );
    Ok(())
}

#[test]
fn a_token_for_another_audience_is_refused() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    for aud in [
        json!("https://other.example"),
        json!(["https://other.example"]),
    ] {
        let mut payload = serde_json::to_value(access_claims(now))?;
        payload["aud"] = aud;
        let token = resign(&fixture, &payload)?;

        assert_eq!(
            verify(&fixture, &token, now),
            Err(TokenRejected::WrongAudience)
        );
    }
    Ok(())
}

#[test]
fn a_token_from_another_issuer_is_refused() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let mut claims = access_claims(now);
    claims.iss = "https://evil.example".to_owned();

    let token = fixture.sign(&claims)?;

    assert_eq!(
        verify(&fixture, &token, now),
        Err(TokenRejected::WrongIssuer)
    );
    Ok(())
}

#[test]
fn a_token_whose_payload_was_changed_is_refused_for_its_signature() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let token = fixture.sign(&access_claims(now))?;
    let parts = parts(&token)?;
    let mut payload = parts.payload;
    payload["roles"] = json!(["admin"]);
    let (header, _) = token
        .split_once('.')
        .ok_or_else(|| anyhow::anyhow!("no dot"))?;

    let tampered = format!("{header}.{}.{}", encode_part(&payload)?, parts.signature);

    assert_eq!(
        verify(&fixture, &tampered, now),
        Err(TokenRejected::Signature)
    );
    Ok(())
}

#[test]
fn a_token_is_refused_as_expired_past_exp_plus_the_clock_skew() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let issued = OffsetDateTime::now_utc();
    let token = fixture.sign(&access_claims(issued))?;
    let expiry = issued + LIFETIME;

    assert_eq!(
        verify(&fixture, &token, expiry + Duration::seconds(30)),
        Ok(())
    );
    assert_eq!(
        verify(&fixture, &token, expiry + Duration::seconds(31)),
        Err(TokenRejected::Expired)
    );
    Ok(())
}

#[test]
fn a_token_is_refused_as_not_yet_valid_before_nbf_minus_the_clock_skew() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let issued = OffsetDateTime::now_utc();
    let token = fixture.sign(&access_claims(issued))?;

    assert_eq!(
        verify(&fixture, &token, issued - Duration::seconds(30)),
        Ok(())
    );
    assert_eq!(
        verify(&fixture, &token, issued - Duration::seconds(31)),
        Err(TokenRejected::NotYetValid)
    );
    Ok(())
}

#[test]
fn an_id_token_is_refused_as_an_access_token() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let token = fixture.signer.sign_id_token(&id_claims(now))?;

    assert_eq!(verify(&fixture, &token, now), Err(TokenRejected::WrongType));
    Ok(())
}

#[test]
fn a_token_signed_by_another_directorys_key_with_the_same_kid_is_refused() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let kid = fixture.current_kid()?;
    let other_dir = tempfile::tempdir()?;
    std::fs::write(
        other_dir.path().join(format!("{kid}.pem")),
        foreign_key_pem()?,
    )?;
    let impostor = signer_over(other_dir.path())?;

    let token = impostor.sign_access_token(&access_claims(now))?;

    assert_eq!(parts(&token)?.header["kid"], kid.as_str());
    assert_eq!(verify(&fixture, &token, now), Err(TokenRejected::Signature));
    Ok(())
}

#[test]
fn a_key_embedded_in_the_header_is_never_used() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let attacker_pem = foreign_key_pem()?;
    let attacker = EncodingKey::from_ec_pem(attacker_pem.as_bytes())?;
    let attacker_dir = tempfile::tempdir()?;
    std::fs::write(
        attacker_dir.path().join(format!("{}.pem", Uuid::now_v7())),
        &attacker_pem,
    )?;
    let attacker_jwk = signer_over(attacker_dir.path())?.jwks()["keys"][0].clone();
    let header = json!({
        "alg": "ES256",
        "typ": "at+jwt",
        "kid": fixture.current_kid()?,
        "jwk": attacker_jwk,
        "jku": "https://evil.example/jwks.json",
        "x5u": "https://evil.example/cert.pem",
    });
    let payload = serde_json::to_value(access_claims(now))?;

    let token = sign_raw(&header, &payload, &attacker, Algorithm::ES256)?;

    assert_eq!(verify(&fixture, &token, now), Err(TokenRejected::Signature));
    Ok(())
}

#[test]
fn anything_that_is_not_a_compact_jws_is_malformed() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let token = fixture.sign(&access_claims(now))?;
    let (header, _) = token
        .split_once('.')
        .ok_or_else(|| anyhow::anyhow!("no dot"))?;
    let with_crit = {
        let mut header = parts(&token)?.header;
        header["crit"] = json!(["exp"]);
        with_header(&token, &header)?
    };

    for garbage in [
        String::new(),
        "not a token".to_owned(),
        format!("{header}.e30"),
        format!("{token}.extra"),
        format!("%%%.{}", token.split_once('.').map_or("", |(_, rest)| rest)),
        format!("{header}.%%%.AAAA"),
        with_crit,
    ] {
        assert_eq!(
            verify(&fixture, &garbage, now),
            Err(TokenRejected::Malformed),
            "{garbage}"
        );
    }
    Ok(())
}

#[test]
fn a_token_missing_a_claim_is_malformed() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let mut payload = serde_json::to_value(access_claims(now))?;
    payload
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("claims are not an object"))?
        .remove("exp");

    let token = resign(&fixture, &payload)?;

    assert_eq!(verify(&fixture, &token, now), Err(TokenRejected::Malformed));
    Ok(())
}
