//! Login on the wire.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Login request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Username (a customer's e-mail address).
    pub username: String,
    /// Password.
    #[schema(format = Password)]
    pub password: String,
    /// One-time code for users with TOTP enabled: the authenticator app's 6 digits, or one of
    /// the recovery codes (each works once). Without it such a user gets 401 `mfa_required`.
    #[serde(default)]
    pub totp_code: Option<String>,
}

impl std::fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginBody")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The logged-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionUserDto {
    /// User id.
    pub id: Uuid,
    /// Role: `customer`, `teller`, `admin` or `auditor`.
    pub role: String,
    /// For customers, their customer id.
    pub customer_id: Option<Uuid>,
}

/// Login response. The session itself is in the `Set-Cookie` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginDto {
    /// Send it back as `X-CSRF-Token` on every cookie-authenticated write.
    pub csrf_token: String,
    /// When the session ends at the latest.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Who is logged in.
    pub user: SessionUserDto,
}
