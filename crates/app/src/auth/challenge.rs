//! Logins in two steps, for the authorization pages: the password first, then, for a user
//! with TOTP enabled, the one-time code on a second form. Between the two, the login is a
//! short-lived challenge stored by its hash; the password alone opens no session.

use std::net::IpAddr;

use time::Duration;

use crate::auth::{Login, LoginOutcome, random_token, sha256_hex};
use crate::ports::{Clock, MfaChallengeRecord, Storage};
use crate::principal::{AMR_PASSWORD, AMR_WITH_OTP};
use crate::{AppError, Service};

/// How long a user has to type their one-time code after their password.
const CHALLENGE_TTL: Duration = Duration::minutes(5);

/// Where a two-step login stands after its password.
#[derive(Debug, Clone)]
pub enum LoginStep {
    /// Done: no second factor needed.
    SignedIn(LoginOutcome),
    /// The password was right; now the one-time code, with this challenge token (kept by the
    /// form, never logged).
    NeedsOneTimeCode(ChallengeToken),
}

/// The token that names a login waiting for its one-time code. Its `Debug` hides it.
#[derive(Clone)]
pub struct ChallengeToken(pub String);

impl std::fmt::Debug for ChallengeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChallengeToken(..)")
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// The first step: checks the password (throttled). Without TOTP, the user is signed in;
    /// with it, a challenge is opened for [`Service::finish_login`].
    pub async fn begin_login(&self, attempt: Login) -> Result<LoginStep, AppError> {
        let user = self
            .verify_credentials(&attempt.username, &attempt.password, attempt.client_ip)
            .await?;
        let now = self.clock.now();
        if !self.totp_enabled(user.id).await? {
            let outcome = self
                .open_session(
                    &user,
                    &AMR_PASSWORD,
                    attempt.previous_session_token.as_deref(),
                    now,
                )
                .await?;
            return Ok(LoginStep::SignedIn(outcome));
        }
        let token = random_token();
        self.store
            .insert_mfa_challenge(&MfaChallengeRecord {
                token_hash: sha256_hex(&token),
                user_id: user.id,
                expires_at: now + CHALLENGE_TTL,
            })
            .await?;
        Ok(LoginStep::NeedsOneTimeCode(ChallengeToken(token)))
    }

    /// The second step: a valid one-time code for the challenge's user opens the session
    /// (`amr` with `otp`). A wrong code leaves the challenge open for another try (the tries
    /// are throttled); an expired or used challenge is `Unauthenticated`.
    pub async fn finish_login(
        &self,
        challenge: &ChallengeToken,
        code: &str,
        client_ip: Option<IpAddr>,
        previous_session_token: Option<&str>,
    ) -> Result<LoginOutcome, AppError> {
        let now = self.clock.now();
        let token_hash = sha256_hex(&challenge.0);
        let record = self
            .store
            .find_mfa_challenge(&token_hash)
            .await?
            .filter(|record| record.expires_at > now)
            .ok_or(AppError::Unauthenticated)?;
        let user = self
            .store
            .find_user(record.user_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        self.verify_one_time_code(user.id, code, client_ip).await?;
        // Whoever deletes the challenge completes the login: never two sessions from one.
        if !self.store.delete_mfa_challenge(&token_hash).await? {
            return Err(AppError::Unauthenticated);
        }
        let outcome = self
            .open_session(&user, &AMR_WITH_OTP, previous_session_token, now)
            .await?;
        tracing::info!(event = "login_succeeded", user_id = %user.id, mfa = true, "login succeeded");
        Ok(outcome)
    }
}
