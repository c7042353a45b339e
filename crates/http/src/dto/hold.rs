//! Holds on the wire.

use coffre_app::FieldError;
use coffre_app::holds::PlaceHold;
use coffre_domain::Money;
use coffre_domain::ledger::{Hold, HoldStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

use super::money::MoneyDto;
use super::timestamp;

/// Where a hold stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum HoldStatusDto {
    /// Reserving money until `expires_at`.
    ACTIVE,
    /// Turned into a transaction (the rest, if any, freed).
    CAPTURED,
    /// Freed without moving money.
    RELEASED,
    /// Freed by reaching its expiry.
    EXPIRED,
}

impl From<HoldStatus> for HoldStatusDto {
    fn from(status: HoldStatus) -> Self {
        match status {
            HoldStatus::Active => HoldStatusDto::ACTIVE,
            HoldStatus::Captured => HoldStatusDto::CAPTURED,
            HoldStatus::Released => HoldStatusDto::RELEASED,
            HoldStatus::Expired => HoldStatusDto::EXPIRED,
        }
    }
}

/// A hold: money reserved on an account; it lowers `available`, not `current`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldDto {
    /// Identifier (UUIDv7).
    pub id: Uuid,
    /// The account it reserves money on.
    pub account_id: Uuid,
    /// The amount reserved.
    pub amount: MoneyDto,
    /// Where it stands.
    pub status: HoldStatusDto,
    /// After this instant it reserves nothing.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// What a capture took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_amount: Option<MoneyDto>,
    /// The transaction a capture booked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_transaction_id: Option<Uuid>,
    /// When it was placed.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last changed.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&Hold> for HoldDto {
    fn from(hold: &Hold) -> Self {
        let currency = hold.amount.currency();
        HoldDto {
            id: hold.id.0,
            account_id: hold.account_id.0,
            amount: hold.amount.into(),
            status: hold.status.into(),
            expires_at: timestamp::format(hold.expires_at),
            captured_amount: hold
                .captured_minor
                .and_then(|minor| Money::from_minor(minor, currency).ok())
                .map(Into::into),
            capture_transaction_id: hold.capture_transaction.map(|t| t.0),
            created_at: timestamp::format(hold.created_at),
            updated_at: timestamp::format(hold.updated_at),
        }
    }
}

/// Request to place a hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceHoldBody {
    /// The amount to reserve (positive).
    pub amount: MoneyDto,
    /// When it lapses (RFC 3339; default 7 days from now, at most 30 days).
    #[serde(default)]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A positive amount, for field `field`.
fn positive(money: &MoneyDto, field: &str) -> Result<Money, FieldError> {
    Money::positive_from_decimal_str(&money.amount, money.currency.into())
        .map_err(|e| FieldError::new(format!("{field}.amount"), e))
}

impl PlaceHoldBody {
    /// Validates into a command, collecting every invalid field.
    pub fn try_into_domain(self) -> Result<PlaceHold, Vec<FieldError>> {
        let amount = positive(&self.amount, "amount");
        let expires_at = self
            .expires_at
            .as_deref()
            .map(|text| {
                OffsetDateTime::parse(text, &Rfc3339)
                    .map_err(|_| FieldError::new("expires_at", "must be an RFC 3339 timestamp"))
            })
            .transpose();
        match (amount, expires_at) {
            (Ok(amount), Ok(expires_at)) => Ok(PlaceHold { amount, expires_at }),
            (amount, expires_at) => Err([amount.err(), expires_at.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

/// Request to capture a hold.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureHoldBody {
    /// How much to take (positive, at most the hold); default the whole hold. The rest is
    /// freed.
    #[serde(default)]
    pub amount: Option<MoneyDto>,
}

impl CaptureHoldBody {
    /// The amount to capture, if given.
    pub fn try_into_domain(self) -> Result<Option<Money>, Vec<FieldError>> {
        self.amount
            .as_ref()
            .map(|m| positive(m, "amount"))
            .transpose()
            .map_err(|e| vec![e])
    }
}

/// Request to release a hold: no fields (an empty body is accepted too).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseHoldBody {}
