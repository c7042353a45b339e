//! Checking a username and password, with brute-force throttling per account and per client
//! address: the one way every login path (session, password grant, authorization page) checks
//! credentials.

use std::net::IpAddr;

use coffre_domain::{UserId, Username};
use time::OffsetDateTime;

use crate::ports::{Clock, Storage, UserRecord};
use crate::throttle::ThrottlePolicy;
use crate::{AppError, Service};

impl<S: Storage, C: Clock> Service<S, C> {
    /// Checks a username and password. Unknown user and wrong password are the same 401 and
    /// take the same time; an account or an IP address over its allowance of attempts gets 429
    /// until its lockout ends, whatever the password. Attempts are counted before the password
    /// is checked (see `throttle`), so parallel guesses cannot exceed the allowance.
    pub async fn verify_credentials(
        &self,
        username: &str,
        password: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<UserRecord, AppError> {
        let now = self.clock.now();
        // A string that is not a valid username names no account: it only counts against the
        // client's address (and never reaches the database as a key or a lookup).
        let username = Username::parse(username).ok();
        let user = match &username {
            Some(username) => self.store.find_user_by_username(username).await?,
            None => None,
        };
        // Security lines name the account by its id, never by the username as typed: an
        // unknown one may be a password typed into the wrong field.
        let attempt = Attempt {
            refused_event: "login_throttled",
            user_id: user.as_ref().map(|user| user.id),
            client_ip,
        };
        let keys = self.throttle_keys(username.as_ref(), client_ip);
        self.reserve_attempt(&keys, now, &attempt).await?;
        let hash = user
            .as_ref()
            .map_or(self.dummy_hash.as_str(), |u| u.password_hash.as_str());
        let password_ok = self
            .hasher
            .verify(password, hash)
            .await
            .map_err(AppError::from_hasher)?;
        let Some(user) = user.filter(|_| password_ok) else {
            // The reservation stays: it was a failure.
            tracing::warn!(
                event = "login_failed",
                user_id = attempt.user_id.map(|id| id.to_string()),
                client_ip = client_ip.map(|ip| ip.to_string()),
                "login failed"
            );
            return Err(AppError::Unauthenticated);
        };
        self.forgive_attempt(&user_key(&user.username), client_ip, now)
            .await?;
        Ok(user)
    }

    /// After a success, the attempt takes nothing from the allowances: `key` (the account or
    /// the client) starts afresh, and the address gets its reserved attempt back.
    pub(crate) async fn forgive_attempt(
        &self,
        key: &str,
        client_ip: Option<IpAddr>,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.store.clear_throttle(key).await?;
        self.store
            .update_throttle(&address_key(client_ip), move |state| {
                ThrottlePolicy::refund(state, now)
            })
            .await?;
        Ok(())
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

    /// Counts this attempt against each key in turn before the password is checked, and
    /// refuses it at the first key that is (or thereby becomes) locked out. The keys after
    /// that one are left alone: an attempt refused for its address must not use up the
    /// account's allowance too.
    pub(crate) async fn reserve_attempt(
        &self,
        keys: &[(String, ThrottlePolicy)],
        now: OffsetDateTime,
        attempt: &Attempt,
    ) -> Result<(), AppError> {
        for (key, policy) in keys {
            let policy = *policy;
            let state = self
                .store
                .update_throttle(key, move |state| policy.reserve(state, now))
                .await?;
            if let Some(retry_at) = ThrottlePolicy::locked_until(Some(&state), now) {
                tracing::warn!(
                    event = attempt.refused_event,
                    user_id = attempt.user_id.map(|id| id.to_string()),
                    client_ip = attempt.client_ip.map(|ip| ip.to_string()),
                    "attempt refused: too many attempts"
                );
                return Err(AppError::RateLimited {
                    retry_after: retry_at - now,
                });
            }
        }
        Ok(())
    }
}

/// Who made a throttled attempt, for the security line logged when it is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    /// The line's `event`: `login_throttled`, `mfa_throttled`, ...
    pub(crate) refused_event: &'static str,
    /// The account, when the attempt names a known one.
    pub(crate) user_id: Option<UserId>,
    /// The client's address, after the trusted-proxy rule.
    pub(crate) client_ip: Option<IpAddr>,
}

/// The throttle (and rate-limit) key of a client address. An IPv6 client usually holds a whole
/// /64 and can change address within it at will, so the /64 is what is counted.
pub fn address_key(client_ip: Option<IpAddr>) -> String {
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
