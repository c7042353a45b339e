//! The JWKS: what clients verify Coffre's tokens with, through their own JOSE library.

use coffre_app::ports::TokenSigner as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use time::OffsetDateTime;

use crate::helpers::{AUDIENCE, Fixture, ISSUER, access_claims, parts};

#[test]
fn each_published_key_is_a_public_p256_signing_key() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;

    let jwks = fixture.signer.jwks();

    let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(keys.len(), 1);
    for key in keys {
        let mut members: Vec<_> = key
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        members.sort();
        // Exactly these members: in particular no private `d`.
        assert_eq!(members, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
        assert_eq!(
            (&key["kty"], &key["crv"], &key["use"], &key["alg"]),
            (
                &"EC".into(),
                &"P-256".into(),
                &"sig".into(),
                &"ES256".into()
            )
        );
        assert_eq!(key["kid"], fixture.current_kid()?.as_str());
    }
    Ok(())
}

#[test]
fn a_client_verifies_an_access_token_with_the_published_jwks() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let claims = access_claims(OffsetDateTime::now_utc());
    let token = fixture.sign(&claims)?;

    // What a client library does: parse the JWKS, pick the key by `kid`, verify.
    let jwks: JwkSet = serde_json::from_value(fixture.signer.jwks())?;
    let kid = parts(&token)?.header["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| anyhow::anyhow!("kid {kid} not published"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    let decoded = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &DecodingKey::from_jwk(jwk)?,
        &validation,
    )?;

    assert_eq!(decoded.claims, serde_json::to_value(&claims)?);
    Ok(())
}
