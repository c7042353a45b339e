//! Session authentication: login with throttling, session lookup with idle and absolute
//! expiry, CSRF tokens and logout; checking credentials (`credentials`) and creating staff
//! users (`staff`).
//!
//! Session and CSRF tokens are 256-bit random values. Only their SHA-256 is stored, so a copy
//! of the database does not let anyone log in. A fresh session id is issued at every login and
//! the one the client came with is deleted (no session fixation).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::ports::{Clock, PurgeCutoffs, SessionRecord, Storage, UserRecord};
use crate::principal::{Credential, SignIn};
use crate::{AppError, Principal, Service};

mod challenge;
mod credentials;
mod mfa;
mod staff;
mod step_up;

pub use challenge::{ChallengeToken, LoginStep};
pub(crate) use credentials::Attempt;
pub use credentials::address_key;
pub use mfa::TotpEnrolment;
pub use step_up::StepUpPolicy;

/// Session activity is written back at most this often, not on every request.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// A login attempt. Its `Debug` shows neither the password nor the session token.
#[derive(Clone)]
pub struct Login {
    /// Username as typed.
    pub username: String,
    /// Password as typed.
    pub password: String,
    /// The client's address, for per-IP throttling.
    pub client_ip: Option<IpAddr>,
    /// The session token the client already had, which the new session replaces.
    pub previous_session_token: Option<String>,
    /// A one-time code (TOTP or recovery code), for users with TOTP enabled.
    pub one_time_code: Option<String>,
}

/// A successful login: secrets to hand to the client once, and who they are. Its `Debug`
/// shows only who.
#[derive(Clone)]
pub struct LoginOutcome {
    /// The session token (goes into the cookie).
    pub session_token: String,
    /// The CSRF token (goes into the response body; sent back in `X-CSRF-Token`).
    pub csrf_token: String,
    /// When the session ends at the latest.
    pub expires_at: OffsetDateTime,
    /// The logged-in user.
    pub principal: Principal,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("client_ip", &self.client_ip)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOutcome")
            .field("expires_at", &self.expires_at)
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// An authenticated session, as found from its token.
#[derive(Debug, Clone)]
pub struct AuthenticatedSession {
    /// Who the session belongs to.
    pub principal: Principal,
    token_hash: String,
    csrf_token_hash: String,
}

impl AuthenticatedSession {
    /// True when `presented` is this session's CSRF token (constant-time comparison).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        sha256_hex(presented)
            .as_bytes()
            .ct_eq(self.csrf_token_hash.as_bytes())
            .into()
    }
}

/// True when two secrets are equal, compared in constant time (for CSRF tokens and the like).
pub fn secrets_match(presented: &str, expected: &str) -> bool {
    sha256_hex(presented)
        .as_bytes()
        .ct_eq(sha256_hex(expected).as_bytes())
        .into()
}

/// 32 random bytes, URL-safe base64: session ids, CSRF tokens, codes.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `amr` list of its space-separated form.
pub(crate) fn amr_list(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn principal_of(user: &UserRecord, session: &SessionRecord) -> Principal {
    Principal {
        user_id: user.id,
        role: user.role,
        customer_id: user.customer_id,
        credential: Credential::Session(SignIn {
            amr: amr_list(&session.amr),
            auth_time: session.created_at,
        }),
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Logs a user in with a session, in one request: checks the credentials (throttled, see
    /// [`Service::verify_credentials`]), then, for a user with TOTP enabled, the one-time code
    /// (`mfa_required` when missing or wrong), and opens a fresh session.
    pub async fn login(&self, attempt: Login) -> Result<LoginOutcome, AppError> {
        let user = self
            .verify_credentials(&attempt.username, &attempt.password, attempt.client_ip)
            .await?;
        let amr = self
            .second_factor(&user, attempt.one_time_code.as_deref(), attempt.client_ip)
            .await?;
        let outcome = self
            .open_session(
                &user,
                &amr,
                attempt.previous_session_token.as_deref(),
                self.clock.now(),
            )
            .await?;
        tracing::info!(event = "login_succeeded", user_id = %user.id, amr = %amr.join(" "), "login succeeded");
        Ok(outcome)
    }

    pub(crate) async fn open_session(
        &self,
        user: &UserRecord,
        amr: &[impl AsRef<str>],
        previous_token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<LoginOutcome, AppError> {
        let session_token = random_token();
        let csrf_token = random_token();
        let expires_at = now + self.config.session_absolute_timeout;
        let record = SessionRecord {
            token_hash: sha256_hex(&session_token),
            user_id: user.id,
            csrf_token_hash: sha256_hex(&csrf_token),
            created_at: now,
            amr: amr.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" "),
            last_seen_at: now,
            expires_at,
        };
        let replaces = previous_token.map(sha256_hex);
        self.store
            .insert_session(
                &record,
                replaces.as_deref(),
                self.config.max_sessions_per_user,
            )
            .await?;
        Ok(LoginOutcome {
            session_token,
            csrf_token,
            expires_at,
            principal: principal_of(user, &record),
        })
    }

    /// Finds the session behind a token. Expired sessions (idle or absolute) are deleted and
    /// refused.
    pub async fn authenticate_session(
        &self,
        session_token: &str,
    ) -> Result<AuthenticatedSession, AppError> {
        let token_hash = sha256_hex(session_token);
        let Some((session, user)) = self.store.find_session(&token_hash).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.clock.now();
        let idle_expired = now - session.last_seen_at >= self.config.session_idle_timeout;
        if idle_expired || now >= session.expires_at {
            self.store.delete_session(&token_hash).await?;
            return Err(AppError::Unauthenticated);
        }
        if now - session.last_seen_at >= TOUCH_INTERVAL {
            self.store.touch_session(&token_hash, now).await?;
        }
        Ok(AuthenticatedSession {
            principal: principal_of(&user, &session),
            token_hash,
            csrf_token_hash: session.csrf_token_hash,
        })
    }

    /// Ends a session on the server, and revokes the user's refresh-token families.
    pub async fn logout(&self, session: &AuthenticatedSession) -> Result<(), AppError> {
        self.store.delete_session(&session.token_hash).await?;
        // Logging out ends what the user granted to applications too.
        self.store
            .revoke_user_refresh_families(session.principal.user_id, self.clock.now())
            .await?;
        tracing::info!(event = "logout", user_id = %session.principal.user_id, "logged out");
        Ok(())
    }

    /// Deletes ended sessions and stale throttle states; the binary runs it periodically, so
    /// that sessions never presented again do not stay in the database for ever.
    pub async fn purge_expired(&self) -> Result<u64, AppError> {
        let now = self.clock.now();
        let window = self
            .config
            .user_throttle
            .window
            .max(self.config.ip_throttle.window);
        let cutoffs = PurgeCutoffs {
            now,
            idle_since: now - self.config.session_idle_timeout,
            window_started: now - window,
        };
        let purged = self.store.purge_expired(cutoffs).await?;
        if purged > 0 {
            tracing::info!(
                rows = purged,
                "purged ended sessions and stale login throttles"
            );
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_never_repeat() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
