//! Two-factor enrolment on the wire. Every body here holds a secret: none has a `Debug` that
//! shows it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A started TOTP enrolment: what the user's authenticator app needs.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolmentDto {
    /// The shared secret, base32, for typing into the app by hand.
    pub secret: String,
    /// The `otpauth://totp/...` URI (RFC 6238 parameters: SHA1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document, for scanning.
    pub qr_svg: String,
}

/// Confirmation of an enrolment with a first code from the app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotpBody {
    /// The 6-digit code the app shows now.
    pub code: String,
}

/// TOTP is enabled.
#[derive(Serialize, ToSchema)]
pub struct TotpEnabledDto {
    /// Always true.
    pub enabled: bool,
    /// Ten one-time recovery codes, each usable once in place of a TOTP code. Shown only
    /// now: Coffre keeps only their hashes.
    pub recovery_codes: Vec<String>,
}

impl std::fmt::Debug for TotpEnrolmentDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolmentDto(..)")
    }
}

impl std::fmt::Debug for ConfirmTotpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfirmTotpBody(..)")
    }
}

impl std::fmt::Debug for TotpEnabledDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnabledDto(..)")
    }
}
