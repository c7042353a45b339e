//! Session authentication: login with throttling, session lookup with idle and absolute
//! expiry, CSRF tokens, logout, and staff user creation.
//!
//! Session and CSRF tokens are 256-bit random values. Only their SHA-256 is stored, so a copy
//! of the database does not let anyone log in. A fresh session id is issued at every login and
//! the one the client came with is deleted (no session fixation).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use coffre_domain::{Password, Role, UserId, Username};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::ports::{Clock, PasswordHasher, PurgeCutoffs, SessionRecord, Storage, UserRecord};
use crate::throttle::ThrottlePolicy;
use crate::{AppError, Principal, Service};

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

/// 32 random bytes, URL-safe base64.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn principal_of(user: &UserRecord) -> Principal {
    Principal {
        user_id: user.id,
        role: user.role,
        customer_id: user.customer_id,
    }
}

impl<S: Storage, H: PasswordHasher, C: Clock> Service<S, H, C> {
    /// Logs a user in. Unknown user and wrong password are the same 401 and take the same time;
    /// an account or an IP address over its allowance of attempts gets 429 until its lockout
    /// ends, whatever the password. Attempts are counted before the password is checked (see
    /// `throttle`), so parallel guesses cannot exceed the allowance.
    pub async fn login(&self, attempt: Login) -> Result<LoginOutcome, AppError> {
        let now = self.clock.now();
        // A string that is not a valid username names no account: it only counts against the
        // client's address (and never reaches the database as a key or a lookup).
        let username = Username::parse(&attempt.username).ok();
        let keys = self.throttle_keys(username.as_ref(), attempt.client_ip);
        self.reserve_attempt(&keys, now).await?;
        let user = match &username {
            Some(username) => self.store.find_user_by_username(username).await?,
            None => None,
        };
        let hash = user
            .as_ref()
            .map_or(self.dummy_hash.as_str(), |u| u.password_hash.as_str());
        let password_ok = self
            .hasher
            .verify(&attempt.password, hash)
            .await
            .map_err(AppError::from_hasher)?;
        let Some(user) = user.filter(|_| password_ok) else {
            // The reservation stays: it was a failure.
            tracing::warn!(event = "login_failed", "login failed");
            return Err(AppError::Unauthenticated);
        };
        self.store.clear_throttle(&user_key(&user.username)).await?;
        let (ip_key, _) = &keys[0];
        self.store
            .update_throttle(ip_key, move |state| ThrottlePolicy::refund(state, now))
            .await?;
        let outcome = self
            .open_session(&user, attempt.previous_session_token.as_deref(), now)
            .await?;
        tracing::info!(event = "login_succeeded", user_id = %user.id, "login succeeded");
        Ok(outcome)
    }

    /// The throttle keys of a login attempt and their policies: the account, when the
    /// username is a valid one, and the client address.
    fn throttle_keys(
        &self,
        username: Option<&Username>,
        client_ip: Option<IpAddr>,
    ) -> Vec<(String, ThrottlePolicy)> {
        let mut keys = vec![(address_key(client_ip), self.config.ip_throttle)];
        if let Some(username) = username {
            keys.push((user_key(username), self.config.user_throttle));
        }
        keys
    }

    /// Counts this attempt against every key before the password is checked; refuses it if
    /// any key is (or thereby becomes) locked out.
    async fn reserve_attempt(
        &self,
        keys: &[(String, ThrottlePolicy)],
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let mut retry_at = None;
        for (key, policy) in keys {
            let policy = *policy;
            let state = self
                .store
                .update_throttle(key, move |state| policy.reserve(state, now))
                .await?;
            retry_at = retry_at.max(ThrottlePolicy::locked_until(Some(&state), now));
        }
        match retry_at {
            Some(retry_at) => {
                tracing::warn!(
                    event = "login_throttled",
                    "login refused: too many attempts"
                );
                Err(AppError::RateLimited {
                    retry_after: retry_at - now,
                })
            }
            None => Ok(()),
        }
    }

    async fn open_session(
        &self,
        user: &UserRecord,
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
            last_seen_at: now,
            expires_at,
        };
        let replaces = previous_token.map(sha256_hex);
        self.store
            .insert_session(&record, replaces.as_deref())
            .await?;
        Ok(LoginOutcome {
            session_token,
            csrf_token,
            expires_at,
            principal: principal_of(user),
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
            principal: principal_of(&user),
            token_hash,
            csrf_token_hash: session.csrf_token_hash,
        })
    }

    /// Ends a session on the server.
    pub async fn logout(&self, session: &AuthenticatedSession) -> Result<(), AppError> {
        self.store.delete_session(&session.token_hash).await?;
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

    /// Creates a staff user (`teller`, `admin`, `auditor`). Customers sign up instead.
    pub async fn create_staff_user(
        &self,
        username: &str,
        role: Role,
        password: &str,
    ) -> Result<UserId, AppError> {
        if role == Role::Customer {
            return Err(AppError::invalid(
                "role",
                "customers sign up through POST /v1/customers",
            ));
        }
        let username = Username::parse(username).map_err(|e| AppError::invalid("username", e))?;
        let password = Password::parse(password).map_err(|e| AppError::invalid("password", e))?;
        let password_hash = self
            .hasher
            .hash(password.expose())
            .await
            .map_err(AppError::from_hasher)?;
        let user = UserRecord {
            id: UserId(Uuid::now_v7()),
            username,
            password_hash,
            role,
            customer_id: None,
            created_at: self.clock.now(),
        };
        self.store.insert_user(&user).await?;
        tracing::info!(user_id = %user.id, role = role.as_str(), "staff user created");
        Ok(user.id)
    }
}

/// The throttle key of a client address. An IPv6 client usually holds a whole /64 and can
/// change address within it at will, so the /64 is what is counted.
fn address_key(client_ip: Option<IpAddr>) -> String {
    match client_ip {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "ip:unknown".to_owned(),
    }
}

/// The throttle key of an account.
fn user_key(username: &Username) -> String {
    format!("user:{}", username.as_str())
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

    #[test]
    fn ipv6_clients_are_counted_by_their_64_bit_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 16]));
        let b: IpAddr = "2001:db8:1:2:ffff::9"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 16]));
        assert_eq!(address_key(Some(a)), "ip:2001:db8:1:2::/64");
        assert_eq!(address_key(Some(a)), address_key(Some(b)));
        assert_eq!(
            address_key(Some(IpAddr::from([192, 0, 2, 1]))),
            "ip:192.0.2.1"
        );
    }

    #[test]
    fn the_username_key_is_case_insensitive() -> Result<(), coffre_domain::UserError> {
        let username = Username::parse(" Alice@Example.org")?;
        assert_eq!(user_key(&username), "user:alice@example.org");
        Ok(())
    }
}
