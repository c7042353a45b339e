//! Second factors: time-based one-time passwords (TOTP, RFC 6238) and one-time recovery codes.
//!
//! Pure: the caller supplies the random bytes and the time. The TOTP parameters are the ones
//! every authenticator app understands (SHA-1, 6 digits, 30-second steps), and a code is
//! accepted one step either side of now to allow for clock drift. A code's step is remembered
//! once used, and no code of that step or an earlier one is accepted again (RFC 6238 §5.2), so
//! a code seen over someone's shoulder is worthless once its owner has used it.

use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Totp};

/// Seconds per TOTP step.
pub const TOTP_PERIOD_S: u64 = 30;
/// Digits of a TOTP code.
pub const TOTP_DIGITS: u8 = 6;
/// Steps accepted either side of the current one.
pub const TOTP_SKEW: u16 = 1;
/// Bytes of a TOTP secret: 160 bits, the HMAC-SHA-1 block RFC 4226 recommends.
pub const TOTP_SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Bytes of a recovery code: 80 bits, so that its unsalted SHA-256 cannot be searched.
pub const RECOVERY_CODE_BYTES: usize = 10;

/// Why a second factor was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MfaError {
    /// The secret is too short to be a TOTP secret.
    #[error("a TOTP secret holds at least 128 bits")]
    WeakSecret,
    /// The code is not the current one (nor the one before or after).
    #[error("the one-time code is not valid")]
    InvalidCode,
    /// The code (or a later one) was already used.
    #[error("the one-time code was already used")]
    CodeReplayed,
}

/// A TOTP shared secret. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A secret from its bytes (fresh random ones at enrolment, stored ones afterwards).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, MfaError> {
        if bytes.len() < 16 {
            return Err(MfaError::WeakSecret);
        }
        Ok(TotpSecret(bytes))
    }

    /// The raw bytes, for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in base32 (RFC 4648, no padding), as users type it into an app.
    pub fn base32(&self) -> String {
        base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &self.0)
    }

    fn totp(&self, issuer: &str, account: &str) -> Result<Totp, MfaError> {
        totp_rs::Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(TOTP_DIGITS)
            .with_skew(TOTP_SKEW)
            .with_step_duration(TOTP_PERIOD_S)
            .with_secret(self.0.clone())
            .with_issuer(Some(issuer))
            .with_account_name(account)
            .build()
            .map_err(|_| MfaError::WeakSecret)
    }

    /// The `otpauth://totp/...` URI an authenticator app reads from a QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, MfaError> {
        self.totp(issuer, account)?
            .to_url()
            .map_err(|_| MfaError::WeakSecret)
    }

    /// The code for the step that holds `unix_time` (what an authenticator app shows).
    pub fn code_at(&self, unix_time: u64) -> Result<String, MfaError> {
        Ok(self.totp("coffre", "user")?.generate(unix_time).to_string())
    }

    /// Checks `code` at `unix_time`, refusing a code whose step is not after `last_used_step`.
    /// Returns the step that matched, to be remembered as the last one used.
    pub fn verify(
        &self,
        code: &str,
        unix_time: u64,
        last_used_step: Option<u64>,
    ) -> Result<u64, MfaError> {
        let code = code.trim();
        if code.len() != usize::from(TOTP_DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MfaError::InvalidCode);
        }
        let step = self
            .totp("coffre", "user")?
            .check(code, unix_time)
            .ok_or(MfaError::InvalidCode)?;
        match last_used_step {
            Some(last) if step <= last => Err(MfaError::CodeReplayed),
            _ => Ok(step),
        }
    }
}

/// A one-time recovery code, normalised: 16 lower-case base32 characters. Users see it in
/// four groups of four (`abcd-efgh-ijkl-mnop`) and may type it with or without the dashes.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

impl RecoveryCode {
    /// A code from [`RECOVERY_CODE_BYTES`] random bytes.
    pub fn from_random(bytes: [u8; RECOVERY_CODE_BYTES]) -> Self {
        RecoveryCode(
            base32::encode(base32::Alphabet::Rfc4648Lower { padding: false }, &bytes)
                .to_ascii_lowercase(),
        )
    }

    /// A code as typed: case, spaces and dashes do not matter. `None` when it cannot be one.
    pub fn parse(typed: &str) -> Option<Self> {
        let normalised: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let valid = normalised.len() == 16
            && normalised
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
        valid.then_some(RecoveryCode(normalised))
    }

    /// The code as shown to the user, in groups of four.
    pub fn display(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Hex SHA-256 of the normalised code: what is stored. 80 random bits make a search of
    /// the hash as hopeless as a guess.
    pub fn hash(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 seed, and its 8-digit codes' last six digits.
    const RFC_SEED: &[u8] = b"12345678901234567890";

    fn secret() -> Result<TotpSecret, MfaError> {
        TotpSecret::from_bytes(RFC_SEED.to_vec())
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() -> Result<(), MfaError> {
        // 94287082, 07081804, 14050471, 89005924, 69279037 in the RFC's 8-digit table.
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(secret()?.code_at(time)?, code);
            assert!(secret()?.verify(code, time, None).is_ok());
        }
        Ok(())
    }

    #[test]
    fn one_step_of_drift_either_way_is_accepted_and_two_are_not() -> Result<(), MfaError> {
        let secret = secret()?;
        let now = 1_700_000_000;
        let previous = secret.code_at(now - TOTP_PERIOD_S)?;
        let next = secret.code_at(now + TOTP_PERIOD_S)?;
        let too_old = secret.code_at(now - 2 * TOTP_PERIOD_S)?;
        assert!(secret.verify(&previous, now, None).is_ok());
        assert!(secret.verify(&next, now, None).is_ok());
        assert_eq!(
            secret.verify(&too_old, now, None),
            Err(MfaError::InvalidCode)
        );
        Ok(())
    }

    #[test]
    fn a_used_code_and_any_earlier_one_are_refused() -> Result<(), MfaError> {
        let secret = secret()?;
        let now = 1_700_000_000;
        let code = secret.code_at(now)?;
        let step = secret.verify(&code, now, None)?;
        assert_eq!(step, now / TOTP_PERIOD_S);
        assert_eq!(
            secret.verify(&code, now, Some(step)),
            Err(MfaError::CodeReplayed)
        );
        let earlier = secret.code_at(now - TOTP_PERIOD_S)?;
        assert_eq!(
            secret.verify(&earlier, now, Some(step)),
            Err(MfaError::CodeReplayed)
        );
        let later = secret.code_at(now + TOTP_PERIOD_S)?;
        assert!(secret.verify(&later, now, Some(step)).is_ok());
        Ok(())
    }

    #[test]
    fn malformed_codes_are_invalid() -> Result<(), MfaError> {
        for code in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(secret()?.verify(code, 59, None), Err(MfaError::InvalidCode));
        }
        Ok(())
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 15]),
            Err(MfaError::WeakSecret)
        );
    }

    #[test]
    fn the_otpauth_uri_names_the_issuer_account_and_secret() -> Result<(), MfaError> {
        let uri = secret()?.otpauth_uri("Coffre", "alice@example.org")?;
        assert!(
            uri.starts_with("otpauth://totp/Coffre:alice%40example.org?"),
            "{uri}"
        );
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Coffre"), "{uri}");
        Ok(())
    }

    #[test]
    fn recovery_codes_read_back_however_they_are_typed() {
        let code = RecoveryCode::from_random([7; RECOVERY_CODE_BYTES]);
        let shown = code.display();
        assert_eq!(shown.len(), 19);
        assert_eq!(RecoveryCode::parse(&shown), Some(code.clone()));
        assert_eq!(
            RecoveryCode::parse(&shown.to_uppercase().replace('-', " ")),
            Some(code.clone())
        );
        assert_eq!(RecoveryCode::parse("123456"), None);
        assert_eq!(code.hash().len(), 64);
    }
}
