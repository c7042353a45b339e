//! Users who log in: customers and staff, their roles, and the password policy.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user's identifier (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a user is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A customer: sees and moves only their own money.
    Customer,
    /// Bank staff at the counter: KYC, account servicing, cash.
    Teller,
    /// Every staff permission.
    Admin,
    /// Read-only staff: audit log and records.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Customer, Role::Teller, Role::Admin, Role::Auditor];

    /// The role as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Teller => "teller",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Staff read every customer's records.
    pub fn is_staff(self) -> bool {
        self != Role::Customer
    }

    /// Staff who may change records and service accounts (teller, and admin who has every
    /// staff permission). Auditors are read-only.
    pub fn can_service_accounts(self) -> bool {
        matches!(self, Role::Teller | Role::Admin)
    }
}

/// Why a username or password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// A username that is not 3..=254 characters without spaces or control characters.
    #[error("username must be 3 to 254 characters without spaces")]
    InvalidUsername,
    /// A password outside the 12..=128 character policy.
    #[error("password must be 12 to 128 characters")]
    InvalidPassword,
}

/// A login name, normalised to lower case (customers log in with their e-mail address).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    /// Parses and lower-cases a username.
    pub fn parse(text: &str) -> Result<Self, UserError> {
        let normalised = text.trim().to_lowercase();
        // Customers log in with their e-mail address, which may be internationalised.
        let ok = (3..=254).contains(&normalised.chars().count())
            && !normalised
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(UserError::InvalidUsername);
        }
        Ok(Username(normalised))
    }

    /// The username as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A candidate password that meets the policy (NIST SP 800-63B: length, not composition
/// rules): 12..=128 characters. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks the policy.
    pub fn parse(text: &str) -> Result<Self, UserError> {
        if !(12..=128).contains(&text.chars().count()) {
            return Err(UserError::InvalidPassword);
        }
        Ok(Password(text.to_owned()))
    }

    /// The password, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_twelve_to_128_characters() {
        assert!(Password::parse("short-pass!").is_err());
        assert!(Password::parse("twelve chars").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() -> Result<(), UserError> {
        let password = Password::parse("correct horse battery")?;
        assert!(!format!("{password:?}").contains("horse"));
        Ok(())
    }

    #[test]
    fn usernames_are_case_insensitive() {
        assert_eq!(
            Username::parse("Alice@Example.org").map(|u| u.0),
            Ok("alice@example.org".to_owned())
        );
        assert!(Username::parse("al").is_err());
        assert!(Username::parse("ali ce").is_err());
        assert_eq!(
            Username::parse("Élodie@Exemple.fr").map(|u| u.0),
            Ok("élodie@exemple.fr".to_owned())
        );
    }
}
