//! PKCE (RFC 7636), S256 only: `plain` sends the verifier itself as the challenge, so anyone who
//! sees the authorization request can redeem the code (RFC 9700 §2.1.1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A code challenge as the client sent it with method `S256`: base64url(SHA-256(verifier)),
/// 43 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

/// Why a challenge or verifier is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// No challenge: PKCE is mandatory.
    #[error("code_challenge is required (PKCE)")]
    Missing,
    /// A method other than `S256`.
    #[error("code_challenge_method must be S256")]
    UnsupportedMethod,
    /// Not 43 base64url characters.
    #[error("code_challenge is not an S256 challenge")]
    MalformedChallenge,
}

impl CodeChallenge {
    /// Parses a challenge and its method (absent means `plain`, per RFC 7636, so it is refused).
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Self, PkceError> {
        let challenge = challenge.ok_or(PkceError::Missing)?;
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        let decoded = URL_SAFE_NO_PAD
            .decode(challenge)
            .map_err(|_| PkceError::MalformedChallenge)?;
        if decoded.len() != 32 {
            return Err(PkceError::MalformedChallenge);
        }
        Ok(CodeChallenge(challenge.to_owned()))
    }

    /// The challenge as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a stored challenge.
    pub fn from_stored(text: String) -> Self {
        CodeChallenge(text)
    }

    /// True when `verifier` (43..=128 unreserved characters) hashes to this challenge.
    pub fn verifies(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        well_formed && bool::from(computed.as_bytes().ct_eq(self.0.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636, Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies_and_nothing_else_does() -> Result<(), PkceError> {
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256"))?;
        assert!(challenge.verifies(VERIFIER));
        assert!(!challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"));
        assert!(!challenge.verifies(CHALLENGE));
        assert!(!challenge.verifies(""));
        Ok(())
    }

    #[test]
    fn plain_and_missing_challenges_are_refused() {
        assert_eq!(
            CodeChallenge::parse(Some(VERIFIER), Some("plain")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), None),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(None, Some("S256")),
            Err(PkceError::Missing)
        );
        assert_eq!(
            CodeChallenge::parse(Some("short"), Some("S256")),
            Err(PkceError::MalformedChallenge)
        );
    }
}
