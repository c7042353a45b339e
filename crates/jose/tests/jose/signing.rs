//! What a signed token carries.

use coffre_app::ports::TokenSigner as _;
use serde_json::json;
use time::OffsetDateTime;

use crate::helpers::{AUDIENCE, Fixture, access_claims, id_claims, parts};

#[test]
fn an_access_token_verifies_back_to_its_claims_and_names_the_newest_key() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let claims = access_claims(now);

    let token = fixture.sign(&claims)?;

    let header = parts(&token)?.header;
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], fixture.current_kid()?.as_str());
    assert_eq!(fixture.signer.verify_access_token(&token, now), Ok(claims));
    Ok(())
}

#[test]
fn an_id_token_has_type_jwt_and_the_newest_key() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let claims = id_claims(OffsetDateTime::now_utc());

    let token = fixture.signer.sign_id_token(&claims)?;

    let parts = parts(&token)?;
    assert_eq!(parts.header["alg"], "ES256");
    assert_eq!(parts.header["typ"], "JWT");
    assert_eq!(parts.header["kid"], fixture.current_kid()?.as_str());
    assert_eq!(parts.payload["nonce"], "n-0S6_WzA2Mj");
    Ok(())
}

#[test]
fn an_audience_array_containing_the_api_is_accepted() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let claims = access_claims(now);
    let mut payload = serde_json::to_value(&claims)?;
    payload["aud"] = json!(["https://other.example", AUDIENCE]);
    let token = resign(&fixture, &payload)?;

    assert_eq!(fixture.signer.verify_access_token(&token, now), Ok(claims));
    Ok(())
}

#[test]
fn the_media_type_form_of_typ_is_accepted_in_any_case() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let claims = access_claims(now);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("Application/AT+JWT".to_owned());
    header.kid = Some(fixture.current_kid()?);
    let token = sign_with_ring_key(&fixture, &header, &serde_json::to_value(&claims)?)?;

    assert_eq!(fixture.signer.verify_access_token(&token, now), Ok(claims));
    Ok(())
}

/// Signs `payload` with the fixture's current key under a standard access-token header.
pub(crate) fn resign(fixture: &Fixture, payload: &serde_json::Value) -> anyhow::Result<String> {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(fixture.current_kid()?);
    sign_with_ring_key(fixture, &header, payload)
}

/// Signs with the private key file of the fixture's current key, bypassing the signer.
fn sign_with_ring_key(
    fixture: &Fixture,
    header: &jsonwebtoken::Header,
    payload: &serde_json::Value,
) -> anyhow::Result<String> {
    let path = fixture
        .key_dir()
        .join(format!("{}.pem", fixture.current_kid()?));
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(path)?)?;
    Ok(jsonwebtoken::encode(header, payload, &key)?)
}
