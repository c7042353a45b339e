//! Customers on the wire.

use coffre_app::FieldError;
use coffre_app::customers::{DecideKyc, ListCustomers, SignUp};
use coffre_domain::{Address, Customer, Email, KycDecision, KycStatus, Password, PersonName};
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::timestamp;

/// A postal address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressDto {
    /// Street and number.
    #[schema(example = "1 rue de Rivoli", min_length = 1, max_length = 200)]
    pub line1: String,
    /// Optional second line.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    /// Postal code: letters, digits, spaces and dashes.
    #[schema(example = "75001", pattern = r"^[A-Za-z0-9 -]{1,16}$")]
    pub postal_code: String,
    /// City.
    #[schema(example = "Paris", min_length = 1, max_length = 100)]
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "FR", pattern = "^[A-Z]{2}$")]
    pub country: String,
}

/// Sign-up request. Its `Debug` leaves the password out.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpBody {
    /// Given name.
    #[schema(example = "Ada", min_length = 1, max_length = 100)]
    pub first_name: String,
    /// Family name.
    #[schema(example = "Lovelace", min_length = 1, max_length = 100)]
    pub last_name: String,
    /// E-mail address; also the login username.
    #[schema(example = "ada@example.org", format = Email, max_length = 254)]
    pub email: String,
    /// Date of birth, `YYYY-MM-DD`.
    #[schema(example = "1990-12-10", format = Date)]
    pub birth_date: String,
    /// Postal address.
    pub address: AddressDto,
    /// Password, 12 to 128 characters.
    #[schema(min_length = 12, max_length = 128, format = Password)]
    pub password: String,
}

impl std::fmt::Debug for SignUpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpBody")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

fn collect<T, E: ToString>(
    result: Result<T, E>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    result
        .map_err(|e| errors.push(FieldError::new(field, e)))
        .ok()
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<Date, &'static str> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| "must be a date written YYYY-MM-DD")
}

impl SignUpBody {
    /// Validates every field into a sign-up command.
    pub fn try_into_domain(self) -> Result<SignUp, Vec<FieldError>> {
        let mut errors = Vec::new();
        let first_name = collect(
            PersonName::parse(&self.first_name, "first_name"),
            "first_name",
            &mut errors,
        );
        let last_name = collect(
            PersonName::parse(&self.last_name, "last_name"),
            "last_name",
            &mut errors,
        );
        let email = collect(Email::parse(&self.email), "email", &mut errors);
        let birth_date = collect(parse_date(&self.birth_date), "birth_date", &mut errors);
        let a = &self.address;
        let address = Address::parse(
            &a.line1,
            a.line2.as_deref(),
            &a.postal_code,
            &a.city,
            &a.country,
        )
        .map_err(|e| {
            let field = match &e {
                coffre_domain::CustomerError::InvalidAddress(field) => *field,
                _ => "address",
            };
            errors.push(FieldError::new(field, e));
        })
        .ok();
        let details = [
            self.first_name.as_str(),
            self.last_name.as_str(),
            self.email.as_str(),
        ];
        let password = collect(
            Password::parse(&self.password, &details),
            "password",
            &mut errors,
        );
        match (first_name, last_name, email, birth_date, address, password) {
            (
                Some(first_name),
                Some(last_name),
                Some(email),
                Some(birth_date),
                Some(address),
                Some(password),
            ) if errors.is_empty() => Ok(SignUp {
                first_name,
                last_name,
                email,
                birth_date,
                address,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// KYC status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub enum KycStatusDto {
    /// Not yet reviewed.
    PENDING,
    /// Verified.
    VERIFIED,
    /// Rejected.
    REJECTED,
}

impl From<KycStatus> for KycStatusDto {
    fn from(status: KycStatus) -> Self {
        match status {
            KycStatus::Pending => KycStatusDto::PENDING,
            KycStatus::Verified => KycStatusDto::VERIFIED,
            KycStatus::Rejected => KycStatusDto::REJECTED,
        }
    }
}

impl From<KycStatusDto> for KycStatus {
    fn from(status: KycStatusDto) -> Self {
        match status {
            KycStatusDto::PENDING => KycStatus::Pending,
            KycStatusDto::VERIFIED => KycStatus::Verified,
            KycStatusDto::REJECTED => KycStatus::Rejected,
        }
    }
}

/// A customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDto {
    /// Identifier (UUIDv7).
    pub id: Uuid,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// E-mail address (lower case).
    pub email: String,
    /// Date of birth.
    #[schema(format = Date)]
    pub birth_date: String,
    /// Postal address.
    pub address: AddressDto,
    /// KYC status.
    pub kyc_status: KycStatusDto,
    /// The reviewer's reason for the KYC decision.
    pub kyc_reason: Option<String>,
    /// Sign-up time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Customer> for CustomerDto {
    fn from(c: Customer) -> Self {
        CustomerDto {
            id: c.id.0,
            first_name: c.first_name.as_str().to_owned(),
            last_name: c.last_name.as_str().to_owned(),
            email: c.email.as_str().to_owned(),
            birth_date: c.birth_date.to_string(),
            address: AddressDto {
                line1: c.address.line1,
                line2: c.address.line2,
                postal_code: c.address.postal_code,
                city: c.address.city,
                country: c.address.country,
            },
            kyc_status: c.kyc_status.into(),
            kyc_reason: c.kyc_reason,
            created_at: timestamp::format(c.created_at),
            updated_at: timestamp::format(c.updated_at),
        }
    }
}

/// A KYC decision.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum KycDecisionDto {
    /// Identity verified.
    VERIFIED,
    /// Identity refused.
    REJECTED,
}

/// Manual KYC review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KycBody {
    /// The decision.
    pub decision: KycDecisionDto,
    /// The reviewer's note (up to 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

impl KycBody {
    /// Into a command (the use case checks the reason after the caller's role).
    pub fn into_domain(self) -> DecideKyc {
        let decision = match self.decision {
            KycDecisionDto::VERIFIED => KycDecision::Verified,
            KycDecisionDto::REJECTED => KycDecision::Rejected,
        };
        DecideKyc {
            decision,
            reason: self.reason,
        }
    }
}

/// Filters and paging of the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerListQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Only customers with this KYC status.
    pub kyc_status: Option<KycStatusDto>,
    /// Case-insensitive substring of first name, last name or e-mail (up to 100 characters).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

impl CustomerListQuery {
    /// Into the use case's parameters (checked there, after the caller's role).
    pub fn into_domain(self) -> ListCustomers {
        ListCustomers {
            page: self.page,
            limit: self.limit,
            kyc_status: self.kyc_status.map(Into::into),
            q: self.q,
        }
    }
}
