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
    /// A password that contains the user's own name, e-mail address or username.
    #[error("password must not contain your name, e-mail address or username")]
    PersonalPassword,
    /// A password a guesser would find early: a common or breached-style one, a word with a
    /// few digits, repeats, sequences, keyboard walks.
    #[error(
        "password is too easy to guess: avoid common passwords, repeated or sequential characters \
         and keyboard patterns; a few unrelated words make a strong one"
    )]
    GuessablePassword,
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

/// A candidate password that meets the policy of NIST SP 800-63B §3.1.1.2: 12..=128
/// characters, no composition rules, and refused when it is guessable (zxcvbn's estimate, which
/// knows the common and breached passwords, names, words, repeats, sequences and keyboard
/// walks) or contains the user's own details. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// The lowest zxcvbn score accepted: "safely unguessable", about 10^10 guesses or more, which
/// stays out of reach of an online attack and slows an offline one against argon2id.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// A detail shorter than this is too common a string to refuse on its own (zxcvbn still
/// weighs it).
const MIN_DETAIL_CHARS: usize = 3;

impl Password {
    /// Checks the policy. `user_details` are the user's own words (name, e-mail address,
    /// username), which the password must not contain.
    pub fn parse(text: &str, user_details: &[&str]) -> Result<Self, UserError> {
        if !(12..=128).contains(&text.chars().count()) {
            return Err(UserError::InvalidPassword);
        }
        let lowered = text.to_lowercase();
        let details: Vec<String> = user_details
            .iter()
            .flat_map(|detail| personal_words(detail))
            .collect();
        if details
            .iter()
            .any(|detail| lowered.contains(detail.as_str()))
        {
            return Err(UserError::PersonalPassword);
        }
        let inputs: Vec<&str> = details.iter().map(String::as_str).collect();
        if zxcvbn::zxcvbn(text, &inputs).score() < MIN_SCORE {
            return Err(UserError::GuessablePassword);
        }
        Ok(Password(text.to_owned()))
    }

    /// The password, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The words of a user detail a password must not contain: the detail itself and, for an
/// e-mail address, its local part, all lower-cased.
fn personal_words(detail: &str) -> Vec<String> {
    let detail = detail.trim().to_lowercase();
    let local_part = detail.split_once('@').map(|(local, _)| local.to_owned());
    [Some(detail), local_part]
        .into_iter()
        .flatten()
        .filter(|word| word.chars().count() >= MIN_DETAIL_CHARS)
        .collect()
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
        assert_eq!(
            Password::parse("short pass!", &[]),
            Err(UserError::InvalidPassword)
        );
        assert!(Password::parse("vault mango tulip", &[]).is_ok());
        assert_eq!(
            Password::parse(&"é".repeat(128), &[]),
            Err(UserError::GuessablePassword),
            "128 characters pass the length rule, whatever their bytes"
        );
        assert_eq!(
            Password::parse(&"x".repeat(129), &[]),
            Err(UserError::InvalidPassword)
        );
    }

    #[test]
    fn guessable_passwords_are_refused_whatever_their_length() {
        for weak in [
            "aaaaaaaaaaaa",
            "            ",
            "password1234",
            "Password1234!",
            "qwertyuiop123",
            "abcdefghijklmnop",
            "123456789012",
            "iloveyou2024",
        ] {
            assert_eq!(
                Password::parse(weak, &[]),
                Err(UserError::GuessablePassword),
                "{weak:?}"
            );
        }
    }

    #[test]
    fn passphrases_of_unrelated_words_are_accepted() {
        for strong in [
            "correct horse battery staple",
            "analytical engine 1843",
            "customer password 1234",
            "staff password 1234",
            "vault mango tulip",
        ] {
            assert!(Password::parse(strong, &[]).is_ok(), "{strong:?}");
        }
    }

    #[test]
    fn a_password_must_not_contain_the_users_name_or_address() {
        let details = ["Ada", "Lovelace", "Ada.King@Example.org"];
        for personal in [
            "lovelace rules 1815",
            "my ada.king@example.org!",
            "ADA.KING vault mango",
        ] {
            assert_eq!(
                Password::parse(personal, &details),
                Err(UserError::PersonalPassword),
                "{personal:?}"
            );
        }
        assert!(Password::parse("vault mango tulip", &details).is_ok());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() -> Result<(), UserError> {
        let password = Password::parse("correct horse battery", &[])?;
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
