//! Second factors: enrolling a TOTP authenticator, and checking a login's one-time code (a
//! TOTP code or a recovery code).
//!
//! Every code is checked under the store's lock on the user's enrolment, so two requests
//! cannot both use one code, even on two nodes. Attempts are throttled per user and per
//! address like passwords (`credentials`), with their own allowance: six digits are guessable
//! only by someone allowed millions of tries.

use std::net::IpAddr;
use std::sync::Arc;

use coffre_domain::UserId;
use coffre_domain::mfa::{
    MfaError, RECOVERY_CODE_BYTES, RECOVERY_CODE_COUNT, RecoveryCode, TOTP_SECRET_BYTES, TotpSecret,
};
use rand_core::{OsRng, RngCore};
use time::OffsetDateTime;

use crate::auth::Attempt;
use crate::auth::address_key;
use crate::ports::{Clock, SecretSeal, Storage, TotpRecord, UserRecord};
use crate::principal::{AMR_PASSWORD, AMR_WITH_OTP};
use crate::throttle::ThrottlePolicy;
use crate::{AppError, MfaRequirement, Principal, Service};

/// The issuer authenticator apps show beside the account name.
const TOTP_ISSUER: &str = "Coffre";

/// What a user needs to set up their authenticator app. Its `Debug` shows no secret.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The shared secret, base32 (to type in).
    pub secret: String,
    /// The `otpauth://` URI (to scan, as a QR code).
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(..)")
    }
}

/// A TOTP step as stored (steps of 30 s since 1970 stay far below `i64::MAX`).
fn stored_step(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// Unix seconds of an instant (TOTP counts from the epoch; Coffre's clock never goes before it).
fn unix_seconds(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp()).unwrap_or(0)
}

fn mfa_key(user_id: UserId) -> String {
    format!("mfa:{}", user_id.0)
}

/// The stored secret, unsealed.
fn secret_of(seal: &dyn SecretSeal, record: &TotpRecord) -> Result<TotpSecret, AppError> {
    let bytes = seal
        .open(&record.secret, record.user_id.0.as_bytes())
        .map_err(AppError::Unknown)?;
    TotpSecret::from_bytes(bytes).map_err(|error| AppError::Unknown(anyhow::Error::new(error)))
}

/// Checks `code` against a confirmed enrolment and uses it up: a TOTP code's step becomes the
/// last one used, a recovery code is struck off.
fn use_code(
    seal: &dyn SecretSeal,
    record: &mut TotpRecord,
    code: &str,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    if let Some(recovery) = RecoveryCode::parse(code) {
        let hash = recovery.hash();
        let before = record.recovery_code_hashes.len();
        record.recovery_code_hashes.retain(|stored| *stored != hash);
        if record.recovery_code_hashes.len() == before {
            return Err(AppError::MfaRequired(MfaRequirement::InvalidCode));
        }
        tracing::warn!(
            event = "mfa_recovery_code_used",
            user_id = %record.user_id,
            remaining = record.recovery_code_hashes.len(),
            "a recovery code was used"
        );
        return Ok(());
    }
    let last = record
        .last_used_step
        .and_then(|step| u64::try_from(step).ok());
    let step = secret_of(seal, record)?
        .verify(code, unix_seconds(now), last)
        .map_err(|_| AppError::MfaRequired(MfaRequirement::InvalidCode))?;
    record.last_used_step = Some(stored_step(step));
    Ok(())
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Starts (or restarts) the caller's TOTP enrolment with a fresh secret. Only a session
    /// may do it, and not while TOTP is enabled (409): replacing a working second factor is
    /// exactly what someone holding a stolen session would want.
    pub async fn start_totp_enrolment(
        &self,
        caller: &Principal,
    ) -> Result<TotpEnrolment, AppError> {
        caller.require_session()?;
        let user = self
            .store
            .find_user(caller.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut bytes = vec![0u8; TOTP_SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        let secret = TotpSecret::from_bytes(bytes)
            .map_err(|error| AppError::Unknown(anyhow::Error::new(error)))?;
        let sealed = self
            .seal
            .seal(secret.as_bytes(), user.id.0.as_bytes())
            .map_err(AppError::Unknown)?;
        let record = TotpRecord {
            user_id: user.id,
            secret: sealed,
            confirmed_at: None,
            last_used_step: None,
            recovery_code_hashes: Vec::new(),
            created_at: self.clock.now(),
        };
        self.store
            .update_totp(user.id, move |current| match current {
                Some(enabled) if enabled.confirmed_at.is_some() => Err(AppError::Conflict(
                    "two-factor authentication is already enabled".to_owned(),
                )),
                _ => Ok(Some(record)),
            })
            .await?;
        let otpauth_uri = secret
            .otpauth_uri(TOTP_ISSUER, user.username.as_str())
            .map_err(|error| AppError::Unknown(anyhow::Error::new(error)))?;
        tracing::info!(event = "mfa_enrolment_started", user_id = %user.id, "TOTP enrolment started");
        Ok(TotpEnrolment {
            secret: secret.base32(),
            otpauth_uri,
        })
    }

    /// Confirms the caller's enrolment with a code from their app, which enables TOTP and
    /// returns the ten recovery codes (shown once; only their hashes are kept).
    pub async fn confirm_totp(
        &self,
        caller: &Principal,
        code: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Vec<String>, AppError> {
        caller.require_session()?;
        let now = self.clock.now();
        let attempt = Attempt {
            refused_event: "mfa_throttled",
            user_id: Some(caller.user_id),
            client_ip,
        };
        self.reserve_attempt(
            &self.mfa_throttle_keys(caller.user_id, client_ip),
            now,
            &attempt,
        )
        .await?;
        let codes: Vec<RecoveryCode> = (0..RECOVERY_CODE_COUNT)
            .map(|_| {
                let mut bytes = [0u8; RECOVERY_CODE_BYTES];
                OsRng.fill_bytes(&mut bytes);
                RecoveryCode::from_random(bytes)
            })
            .collect();
        let hashes = codes.iter().map(RecoveryCode::hash).collect();
        let code = code.to_owned();
        let seal = Arc::clone(&self.seal);
        self.store
            .update_totp(caller.user_id, move |current| {
                let Some(mut record) = current else {
                    return Err(AppError::Conflict(
                        "start an enrolment first (POST /v1/me/mfa/totp)".to_owned(),
                    ));
                };
                if record.confirmed_at.is_some() {
                    return Err(AppError::Conflict(
                        "two-factor authentication is already enabled".to_owned(),
                    ));
                }
                let step = secret_of(seal.as_ref(), &record)?
                    .verify(&code, unix_seconds(now), None)
                    .map_err(|error: MfaError| AppError::invalid("code", error))?;
                record.confirmed_at = Some(now);
                record.last_used_step = Some(stored_step(step));
                record.recovery_code_hashes = hashes;
                Ok(Some(record))
            })
            .await?;
        self.forgive_attempt(&mfa_key(caller.user_id), client_ip, now)
            .await?;
        tracing::info!(event = "mfa_enabled", user_id = %caller.user_id, "TOTP enabled");
        Ok(codes.iter().map(RecoveryCode::display).collect())
    }

    /// True when the user has confirmed a TOTP enrolment (their logins need a code).
    pub(crate) async fn totp_enabled(&self, user_id: UserId) -> Result<bool, AppError> {
        Ok(self
            .store
            .find_totp(user_id)
            .await?
            .is_some_and(|record| record.confirmed_at.is_some()))
    }

    /// The second step of a login whose password was right: nothing for a user without TOTP,
    /// otherwise a valid one-time code, used up. Returns the login's `amr`.
    pub(crate) async fn second_factor(
        &self,
        user: &UserRecord,
        code: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<Vec<String>, AppError> {
        if !self.totp_enabled(user.id).await? {
            return Ok(AMR_PASSWORD.map(str::to_owned).to_vec());
        }
        let code = code
            .filter(|code| !code.trim().is_empty())
            .ok_or(AppError::MfaRequired(MfaRequirement::OneTimeCode))?;
        self.verify_one_time_code(user.id, code, client_ip).await?;
        Ok(AMR_WITH_OTP.map(str::to_owned).to_vec())
    }

    /// Checks and uses up a one-time code of a user with TOTP enabled, throttled.
    pub(crate) async fn verify_one_time_code(
        &self,
        user_id: UserId,
        code: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let attempt = Attempt {
            refused_event: "mfa_throttled",
            user_id: Some(user_id),
            client_ip,
        };
        self.reserve_attempt(&self.mfa_throttle_keys(user_id, client_ip), now, &attempt)
            .await?;
        let code = code.to_owned();
        let seal = Arc::clone(&self.seal);
        let checked = self
            .store
            .update_totp(user_id, move |current| {
                let mut record = current
                    .filter(|record| record.confirmed_at.is_some())
                    .ok_or(AppError::MfaRequired(MfaRequirement::OneTimeCode))?;
                use_code(seal.as_ref(), &mut record, &code, now)?;
                Ok(Some(record))
            })
            .await;
        if let Err(error) = checked {
            // The reservation stays: it was a failure.
            tracing::warn!(
                event = "mfa_failed",
                user_id = %user_id,
                client_ip = client_ip.map(|ip| ip.to_string()),
                "one-time code refused"
            );
            return Err(error);
        }
        self.forgive_attempt(&mfa_key(user_id), client_ip, now)
            .await
    }

    fn mfa_throttle_keys(
        &self,
        user_id: UserId,
        client_ip: Option<IpAddr>,
    ) -> Vec<(String, ThrottlePolicy)> {
        vec![
            (address_key(client_ip), self.config.ip_throttle),
            (mfa_key(user_id), self.config.mfa_throttle),
        ]
    }
}
