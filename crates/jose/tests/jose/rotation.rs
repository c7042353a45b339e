//! Rotation: a new key signs once reloaded; the old one verifies only while its tokens can live.

use coffre_app::ports::{TokenRejected, TokenSigner as _};
use coffre_jose::{KeyRing, RETENTION_LEEWAY};
use time::{Duration, OffsetDateTime};

use crate::helpers::{Fixture, LIFETIME, access_claims, parts, signer_over};

fn jwks_kids(fixture: &Fixture, now: OffsetDateTime) -> Vec<String> {
    let jwks = fixture.signer.jwks_at(now);
    let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
    keys.iter()
        .filter_map(|key| key["kid"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn after_rotation_the_new_key_signs_and_the_old_one_verifies_until_its_tokens_are_dead()
-> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let issued = OffsetDateTime::now_utc();
    let old_kid = fixture.current_kid()?;
    let mut claims = access_claims(issued);
    // Far enough that expiry never decides: only the key's retention does.
    claims.exp = (issued + Duration::days(1)).unix_timestamp();
    let old_token = fixture.sign(&claims)?;

    let new_kid = KeyRing::rotate(fixture.key_dir())?;
    fixture.ring().reload()?;

    assert_ne!(new_kid, old_kid);
    let new_token = fixture.sign(&claims)?;
    assert_eq!(parts(&new_token)?.header["kid"], new_kid.as_str());
    let keys = fixture.ring().keys();
    let (Some(new), Some(old)) = (keys.first(), keys.get(1)) else {
        anyhow::bail!("expected two keys, got {keys:?}");
    };
    assert_eq!(
        (new.kid.as_str(), old.kid.as_str()),
        (new_kid.as_str(), old_kid.as_str())
    );
    let until = new.created_at + LIFETIME + RETENTION_LEEWAY;
    assert_eq!(old.accepted_until, Some(until));

    for now in [issued, until] {
        assert_eq!(
            fixture.signer.verify_access_token(&old_token, now),
            Ok(claims.clone())
        );
        assert_eq!(jwks_kids(&fixture, now), [new_kid.clone(), old_kid.clone()]);
    }
    let after = until + Duration::seconds(1);
    assert_eq!(
        fixture.signer.verify_access_token(&old_token, after),
        Err(TokenRejected::UnknownKey)
    );
    assert_eq!(
        fixture.signer.verify_access_token(&new_token, after),
        Ok(claims)
    );
    assert_eq!(jwks_kids(&fixture, after), [new_kid]);
    Ok(())
}

#[test]
fn a_ring_keeps_signing_with_its_key_until_it_reloads() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let old_kid = fixture.current_kid()?;

    KeyRing::rotate(fixture.key_dir())?;

    let token = fixture.sign(&access_claims(OffsetDateTime::now_utc()))?;
    assert_eq!(parts(&token)?.header["kid"], old_kid.as_str());
    Ok(())
}

#[test]
fn every_node_loading_the_same_directory_verifies_the_others_tokens() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    KeyRing::rotate(fixture.key_dir())?;
    fixture.ring().reload()?;

    let other_node = signer_over(&fixture.key_dir())?;

    assert_eq!(other_node.key_ring().keys(), fixture.ring().keys());
    let token = other_node.sign_access_token(&access_claims(now))?;
    assert!(fixture.signer.verify_access_token(&token, now).is_ok());
    Ok(())
}

#[test]
fn a_failed_reload_keeps_the_loaded_keys() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    let now = OffsetDateTime::now_utc();
    let kid = fixture.current_kid()?;
    std::fs::remove_file(fixture.key_dir().join(format!("{kid}.pem")))?;

    assert!(fixture.ring().reload().is_err());

    let token = fixture.sign(&access_claims(now))?;
    assert_eq!(parts(&token)?.header["kid"], kid.as_str());
    assert!(fixture.signer.verify_access_token(&token, now).is_ok());
    Ok(())
}

#[test]
fn each_old_key_is_retained_from_the_creation_of_the_key_that_replaced_it() -> anyhow::Result<()> {
    let fixture = Fixture::new()?;
    KeyRing::rotate(fixture.key_dir())?;
    KeyRing::rotate(fixture.key_dir())?;
    fixture.ring().reload()?;

    let keys = fixture.ring().keys();

    assert_eq!(keys.len(), 3);
    assert_eq!(keys.first().map(|key| key.accepted_until), Some(None));
    for pair in keys.windows(2) {
        let [newer, older] = pair else {
            anyhow::bail!("windows of two");
        };
        assert!(newer.kid > older.kid && newer.created_at >= older.created_at);
        let retention = LIFETIME + RETENTION_LEEWAY;
        assert_eq!(older.accepted_until, Some(newer.created_at + retention));
    }
    Ok(())
}
