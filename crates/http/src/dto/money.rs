//! Money on the wire: `{"amount": "1250.00", "currency": "EUR"}`.

use coffre_app::FieldError;
use coffre_domain::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount of money: a decimal string with at most the currency's minor digits, and an
/// ISO 4217 currency code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyDto {
    /// Decimal string, e.g. `"1250.00"` (never a JSON number).
    #[schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "1250.00")]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: CurrencyCode,
}

/// A supported ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CurrencyCode {
    /// Euro.
    EUR,
    /// US dollar.
    USD,
    /// Pound sterling.
    GBP,
    /// Swiss franc.
    CHF,
    /// Japanese yen.
    JPY,
}

impl From<CurrencyCode> for Currency {
    fn from(code: CurrencyCode) -> Self {
        match code {
            CurrencyCode::EUR => Currency::EUR,
            CurrencyCode::USD => Currency::USD,
            CurrencyCode::GBP => Currency::GBP,
            CurrencyCode::CHF => Currency::CHF,
            CurrencyCode::JPY => Currency::JPY,
        }
    }
}

impl From<Currency> for CurrencyCode {
    fn from(currency: Currency) -> Self {
        match currency {
            Currency::EUR => CurrencyCode::EUR,
            Currency::USD => CurrencyCode::USD,
            Currency::GBP => CurrencyCode::GBP,
            Currency::CHF => CurrencyCode::CHF,
            Currency::JPY => CurrencyCode::JPY,
        }
    }
}

impl From<Money> for MoneyDto {
    fn from(money: Money) -> Self {
        MoneyDto {
            amount: money.to_decimal_string(),
            currency: money.currency().into(),
        }
    }
}

impl MoneyDto {
    /// A non-negative amount (zero allowed, e.g. an overdraft limit), for field `field`.
    pub fn try_non_negative(&self, field: &str) -> Result<Money, FieldError> {
        Money::from_decimal_str(&self.amount, self.currency.into())
            .map_err(|e| FieldError::new(format!("{field}.amount"), e))
    }
}
