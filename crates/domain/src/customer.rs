//! Customers: identity, contact address and know-your-customer (KYC) status.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A customer's identifier (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CustomerId(pub Uuid);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a customer field was refused. Each variant names the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    /// A name that is empty, too long or contains control characters.
    #[error("{0} must be 1 to 100 printable characters")]
    InvalidName(&'static str),
    /// Not a plausible e-mail address.
    #[error("not a valid e-mail address")]
    InvalidEmail,
    /// A birth date in the future or before 1900.
    #[error("birth date must be between 1900-01-01 and today")]
    InvalidBirthDate,
    /// An address line, postal code, city or country that is malformed.
    #[error("{0} is not valid")]
    InvalidAddress(&'static str),
    /// A KYC decision on a customer whose KYC was already decided.
    #[error("KYC has already been decided for this customer")]
    KycAlreadyDecided,
}

/// A normalised e-mail address (trimmed, lower case), which is also the customer's username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// Parses an address per RFC 5322's `addr-spec` (as the `email_address` crate checks it),
    /// at most 254 characters, and lower-cases it so that one mailbox is one customer.
    pub fn parse(text: &str) -> Result<Self, CustomerError> {
        let normalised = text.trim().to_lowercase();
        let plausible = normalised.len() <= 254
            && normalised.contains('@')
            && email_address::EmailAddress::is_valid(&normalised)
            && normalised
                .rsplit_once('@')
                .is_some_and(|(_, domain)| domain.contains('.'));
        if !plausible {
            return Err(CustomerError::InvalidEmail);
        }
        Ok(Email(normalised))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name part: 1..=100 characters, no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name for `field` (used in the error).
    pub fn parse(text: &str, field: &'static str) -> Result<Self, CustomerError> {
        bounded_text(text, 1, 100)
            .map(PersonName)
            .ok_or(CustomerError::InvalidName(field))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// First line (street and number).
    pub line1: String,
    /// Optional second line.
    pub line2: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country: String,
}

impl Address {
    /// Checks every part: lines up to 200 characters, postal code 1..=16 letters, digits,
    /// spaces or dashes, city up to 100 characters, country two upper-case letters.
    pub fn parse(
        line1: &str,
        line2: Option<&str>,
        postal_code: &str,
        city: &str,
        country: &str,
    ) -> Result<Self, CustomerError> {
        let line1 =
            bounded_text(line1, 1, 200).ok_or(CustomerError::InvalidAddress("address.line1"))?;
        let line2 = match line2.map(str::trim).filter(|l| !l.is_empty()) {
            Some(text) => Some(
                bounded_text(text, 1, 200).ok_or(CustomerError::InvalidAddress("address.line2"))?,
            ),
            None => None,
        };
        let postal_code_ok = (1..=16).contains(&postal_code.len())
            && postal_code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
        if !postal_code_ok {
            return Err(CustomerError::InvalidAddress("address.postal_code"));
        }
        let city =
            bounded_text(city, 1, 100).ok_or(CustomerError::InvalidAddress("address.city"))?;
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(CustomerError::InvalidAddress("address.country"));
        }
        Ok(Address {
            line1,
            line2,
            postal_code: postal_code.to_owned(),
            city,
            country: country.to_owned(),
        })
    }
}

/// Trims `text` and accepts it if it has `min..=max` characters and no control character.
pub(crate) fn bounded_text(text: &str, min: usize, max: usize) -> Option<String> {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    let ok = (min..=max).contains(&count) && !trimmed.chars().any(char::is_control);
    ok.then(|| trimmed.to_owned())
}

/// A birth date: not in the future, not before 1900.
pub fn check_birth_date(birth_date: Date, today: Date) -> Result<Date, CustomerError> {
    let earliest = Date::from_calendar_date(1900, time::Month::January, 1)
        .map_err(|_| CustomerError::InvalidBirthDate)?;
    if birth_date < earliest || birth_date > today {
        return Err(CustomerError::InvalidBirthDate);
    }
    Ok(birth_date)
}

/// Where a customer's identity check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KycStatus {
    /// Signed up, identity not yet reviewed: accounts stay `PENDING_KYC`.
    Pending,
    /// Identity verified: accounts can be active.
    Verified,
    /// Identity refused: no account can be opened.
    Rejected,
}

impl KycStatus {
    /// The status as stored and sent (`PENDING`, `VERIFIED`, `REJECTED`).
    pub fn as_str(self) -> &'static str {
        match self {
            KycStatus::Pending => "PENDING",
            KycStatus::Verified => "VERIFIED",
            KycStatus::Rejected => "REJECTED",
        }
    }

    /// Parses the stored or sent form.
    pub fn parse(text: &str) -> Option<Self> {
        [KycStatus::Pending, KycStatus::Verified, KycStatus::Rejected]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// A reviewer's KYC decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KycDecision {
    /// The identity is verified.
    Verified,
    /// The identity is refused.
    Rejected,
}

/// A customer of the bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Identifier.
    pub id: CustomerId,
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// E-mail address, also the login.
    pub email: Email,
    /// Date of birth.
    pub birth_date: Date,
    /// Postal address.
    pub address: Address,
    /// KYC status.
    pub kyc_status: KycStatus,
    /// The reviewer's reason for the last KYC decision, if any.
    pub kyc_reason: Option<String>,
    /// Optimistic-concurrency version, bumped by every change.
    pub version: i64,
    /// When the customer signed up.
    pub created_at: OffsetDateTime,
    /// When the customer last changed.
    pub updated_at: OffsetDateTime,
}

impl Customer {
    /// Records a KYC decision. Only a `PENDING` customer can be decided: a decision is final,
    /// and reversing one is a compliance procedure, not an API call.
    pub fn decide_kyc(
        &mut self,
        decision: KycDecision,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<(), CustomerError> {
        if self.kyc_status != KycStatus::Pending {
            return Err(CustomerError::KycAlreadyDecided);
        }
        self.kyc_status = match decision {
            KycDecision::Verified => KycStatus::Verified,
            KycDecision::Rejected => KycStatus::Rejected,
        };
        self.kyc_reason = reason;
        self.touch(now);
        Ok(())
    }

    fn touch(&mut self, now: OffsetDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn customer() -> Result<Customer, CustomerError> {
        Ok(Customer {
            id: CustomerId(Uuid::nil()),
            first_name: PersonName::parse("Ada", "first_name")?,
            last_name: PersonName::parse("Lovelace", "last_name")?,
            email: Email::parse("Ada@Example.org")?,
            birth_date: date!(1990 - 12 - 10),
            address: Address::parse("1 rue de Rivoli", None, "75001", "Paris", "FR")?,
            kyc_status: KycStatus::Pending,
            kyc_reason: None,
            version: 1,
            created_at: datetime!(2026-01-01 0:00 UTC),
            updated_at: datetime!(2026-01-01 0:00 UTC),
        })
    }

    #[test]
    fn a_customer_reads_back_from_its_serialised_form_unchanged()
    -> Result<(), Box<dyn std::error::Error>> {
        let customer = customer()?;
        let text = serde_json::to_string(&customer)?;
        let back: Customer = serde_json::from_str(&text)?;
        assert_eq!(back, customer);
        Ok(())
    }

    #[test]
    fn emails_are_normalised_to_lower_case() {
        assert_eq!(
            Email::parse(" Ada@Example.ORG ").map(|e| e.0),
            Ok("ada@example.org".to_owned())
        );
    }

    #[test]
    fn implausible_emails_are_refused() {
        for text in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@localhost",
            "a b@example.org",
        ] {
            assert_eq!(
                Email::parse(text),
                Err(CustomerError::InvalidEmail),
                "{text:?}"
            );
        }
    }

    #[test]
    fn names_must_be_printable_and_bounded() {
        assert!(PersonName::parse("Zoë", "first_name").is_ok());
        assert!(PersonName::parse("  ", "first_name").is_err());
        assert!(PersonName::parse("a\u{0}b", "first_name").is_err());
        assert!(PersonName::parse(&"x".repeat(101), "first_name").is_err());
    }

    #[test]
    fn birth_dates_in_the_future_are_refused() {
        let today = date!(2026 - 11 - 21);
        assert!(check_birth_date(date!(2026 - 11 - 22), today).is_err());
        assert!(check_birth_date(date!(1899 - 12 - 31), today).is_err());
        assert!(check_birth_date(date!(2000 - 02 - 29), today).is_ok());
    }

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert!(Address::parse("1 rue", None, "75001", "Paris", "fr").is_err());
        assert!(Address::parse("1 rue", None, "75001", "Paris", "FRA").is_err());
    }

    #[test]
    fn a_kyc_decision_is_final() -> Result<(), CustomerError> {
        let mut customer = customer()?;
        let now = datetime!(2026-02-01 0:00 UTC);
        customer.decide_kyc(KycDecision::Verified, None, now)?;
        assert_eq!(customer.kyc_status, KycStatus::Verified);
        assert_eq!(customer.version, 2);
        assert_eq!(
            customer.decide_kyc(KycDecision::Rejected, None, now),
            Err(CustomerError::KycAlreadyDecided)
        );
        Ok(())
    }
}
