//! Money as an integer count of minor units in an ISO 4217 currency.
//!
//! Floating point never touches money: amounts are parsed from and formatted to decimal strings
//! digit by digit, and every arithmetic operation is checked, so an overflow is an error rather
//! than a silent wrap.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The largest amount the API accepts, in minor units (10^15, per the HTTP contract).
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// An ISO 4217 currency Coffre can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Currency {
    /// Euro.
    EUR,
    /// US dollar.
    USD,
    /// Pound sterling.
    GBP,
    /// Swiss franc.
    CHF,
    /// Japanese yen (no minor unit).
    JPY,
}

impl Currency {
    /// Every supported currency, in a stable order.
    pub const ALL: [Currency; 5] = [
        Currency::EUR,
        Currency::USD,
        Currency::GBP,
        Currency::CHF,
        Currency::JPY,
    ];

    /// The ISO 4217 alphabetic code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::EUR => "EUR",
            Currency::USD => "USD",
            Currency::GBP => "GBP",
            Currency::CHF => "CHF",
            Currency::JPY => "JPY",
        }
    }

    /// The number of digits after the decimal separator (ISO 4217 "minor unit").
    pub fn minor_digits(self) -> u32 {
        match self {
            Currency::JPY => 0,
            Currency::EUR | Currency::USD | Currency::GBP | Currency::CHF => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    /// Parses an ISO 4217 code; codes are upper case, as the standard writes them.
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|currency| currency.code() == code)
            .ok_or(MoneyError::UnknownCurrency)
    }
}

/// Why an amount or a currency was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO 4217 code Coffre supports.
    #[error("unknown or unsupported currency")]
    UnknownCurrency,
    /// Not a plain decimal number (`1250.00`).
    #[error("amount must be a decimal string such as \"1250.00\"")]
    NotADecimal,
    /// More decimals than the currency has minor digits.
    #[error("amount has more decimals than the currency allows")]
    TooManyDecimals,
    /// Larger than `MAX_AMOUNT_MINOR`, or an arithmetic result that does not fit.
    #[error("amount is too large")]
    Overflow,
    /// Zero or negative where a positive amount is required.
    #[error("amount must be positive")]
    NotPositive,
    /// Two amounts in different currencies were combined.
    #[error("currencies do not match")]
    CurrencyMismatch,
}

/// An amount of money: a signed count of minor units and its currency.
///
/// Its serialised form (`{"amount_minor": 1250, "currency": "EUR"}`) is checked like
/// [`Money::from_minor`] when read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyParts")]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

/// [`Money`]'s fields as they are serialised, before they are checked.
#[derive(Deserialize)]
struct MoneyParts {
    amount_minor: i64,
    currency: Currency,
}

impl TryFrom<MoneyParts> for Money {
    type Error = MoneyError;

    fn try_from(parts: MoneyParts) -> Result<Self, Self::Error> {
        Money::from_minor(parts.amount_minor, parts.currency)
    }
}

impl Money {
    /// Builds an amount from minor units, refusing anything beyond ±`MAX_AMOUNT_MINOR`.
    pub fn from_minor(amount_minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount_minor.unsigned_abs() > MAX_AMOUNT_MINOR.unsigned_abs() {
            return Err(MoneyError::Overflow);
        }
        Ok(Money {
            amount_minor,
            currency,
        })
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Money {
            amount_minor: 0,
            currency,
        }
    }

    /// Parses a non-negative decimal string such as `"1250.00"`, `"12.5"` or `"7"`.
    ///
    /// Refused: signs, exponents, spaces, separators other than one `.`, more decimals than the
    /// currency's minor digits, and amounts above `MAX_AMOUNT_MINOR` minor units.
    pub fn from_decimal_str(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let is_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !is_digits(whole) || fraction.is_some_and(|f| !is_digits(f)) {
            return Err(MoneyError::NotADecimal);
        }
        let fraction = fraction.unwrap_or("");
        let digits = currency.minor_digits();
        if fraction.len() > digits as usize {
            return Err(MoneyError::TooManyDecimals);
        }
        let mut amount_minor: i64 = 0;
        let padding = digits as usize - fraction.len();
        for byte in whole
            .bytes()
            .chain(fraction.bytes())
            .chain(std::iter::repeat_n(b'0', padding))
        {
            amount_minor = amount_minor
                .checked_mul(10)
                .and_then(|a| a.checked_add(i64::from(byte - b'0')))
                .ok_or(MoneyError::Overflow)?;
            if amount_minor > MAX_AMOUNT_MINOR {
                return Err(MoneyError::Overflow);
            }
        }
        Money::from_minor(amount_minor, currency)
    }

    /// Like [`Money::from_decimal_str`], and the amount must also be above zero.
    pub fn positive_from_decimal_str(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let money = Money::from_decimal_str(text, currency)?;
        if money.amount_minor == 0 {
            return Err(MoneyError::NotPositive);
        }
        Ok(money)
    }

    /// The amount as a decimal string with exactly the currency's minor digits (`"-12.50"`).
    pub fn to_decimal_string(&self) -> String {
        let digits = self.currency.minor_digits();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let magnitude = self.amount_minor.unsigned_abs();
        if digits == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10u64.pow(digits);
        let width = digits as usize;
        format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale)
    }

    /// The signed number of minor units.
    pub fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    /// `self + other`, refusing mixed currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.combine(other, i64::checked_add)
    }

    /// `self - other`, refusing mixed currencies and overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.combine(other, i64::checked_sub)
    }

    fn combine(self, other: Money, op: fn(i64, i64) -> Option<i64>) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let amount_minor = op(self.amount_minor, other.amount_minor).ok_or(MoneyError::Overflow)?;
        Money::from_minor(amount_minor, self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur(text: &str) -> Result<Money, MoneyError> {
        Money::from_decimal_str(text, Currency::EUR)
    }

    #[test]
    fn the_serialised_form_is_checked_when_read_back() -> Result<(), Box<dyn std::error::Error>> {
        let amount = Money::from_minor(-1_250, Currency::EUR)?;
        let text = serde_json::to_string(&amount)?;
        assert_eq!(text, r#"{"amount_minor":-1250,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&text)?, amount);
        let beyond = format!(
            r#"{{"amount_minor":{},"currency":"EUR"}}"#,
            MAX_AMOUNT_MINOR + 1
        );
        assert!(serde_json::from_str::<Money>(&beyond).is_err());
        Ok(())
    }

    #[test]
    fn decimal_strings_parse_to_minor_units() {
        assert_eq!(eur("1250.00").map(|m| m.amount_minor()), Ok(125_000));
        assert_eq!(eur("12.5").map(|m| m.amount_minor()), Ok(1_250));
        assert_eq!(eur("7").map(|m| m.amount_minor()), Ok(700));
        assert_eq!(
            Money::from_decimal_str("1250", Currency::JPY).map(|m| m.amount_minor()),
            Ok(1_250)
        );
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for text in [
            "", ".", "1.", ".5", "-1.00", "+1", "1e3", " 1", "1,00", "1.2.3", "０",
        ] {
            assert_eq!(eur(text), Err(MoneyError::NotADecimal), "{text:?}");
        }
        assert_eq!(eur("1.001"), Err(MoneyError::TooManyDecimals));
        assert_eq!(
            Money::from_decimal_str("1.5", Currency::JPY),
            Err(MoneyError::TooManyDecimals)
        );
    }

    #[test]
    fn amounts_above_ten_to_the_fifteen_minor_units_are_refused() {
        assert_eq!(
            eur("10000000000000.00").map(|m| m.amount_minor()),
            Ok(MAX_AMOUNT_MINOR)
        );
        assert_eq!(eur("10000000000000.01"), Err(MoneyError::Overflow));
        assert_eq!(eur("99999999999999999999999"), Err(MoneyError::Overflow));
    }

    #[test]
    fn zero_is_not_a_positive_amount() {
        assert_eq!(
            Money::positive_from_decimal_str("0.00", Currency::EUR),
            Err(MoneyError::NotPositive)
        );
    }

    #[test]
    fn formatting_always_shows_the_minor_digits() {
        let money =
            |minor, currency| Money::from_minor(minor, currency).map(|m| m.to_decimal_string());
        assert_eq!(money(5, Currency::EUR), Ok("0.05".to_owned()));
        assert_eq!(money(-1250, Currency::EUR), Ok("-12.50".to_owned()));
        assert_eq!(money(1250, Currency::JPY), Ok("1250".to_owned()));
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let ten_eur = Money::from_minor(1000, Currency::EUR);
        let ten_usd = Money::from_minor(1000, Currency::USD);
        let max = Money::from_minor(MAX_AMOUNT_MINOR, Currency::EUR);
        assert_eq!(
            ten_eur.and_then(|a| ten_usd.and_then(|b| a.checked_add(b))),
            Err(MoneyError::CurrencyMismatch)
        );
        assert_eq!(
            max.and_then(|a| ten_eur.and_then(|b| a.checked_add(b))),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn currency_codes_are_iso_4217_upper_case() {
        assert_eq!("EUR".parse(), Ok(Currency::EUR));
        assert_eq!("eur".parse::<Currency>(), Err(MoneyError::UnknownCurrency));
        assert_eq!("XXX".parse::<Currency>(), Err(MoneyError::UnknownCurrency));
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        proptest::sample::select(Currency::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_gives_back_the_same_amount(
            minor in 0..=MAX_AMOUNT_MINOR,
            currency in any_currency(),
        ) {
            let money = Money::from_minor(minor, currency).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Money::from_decimal_str(&money.to_decimal_string(), currency), Ok(money));
        }

        #[test]
        fn parsing_then_formatting_gives_back_the_canonical_text(
            whole in 0u64..10_000_000_000_000,
            cents in 0u64..100,
        ) {
            let text = format!("{whole}.{cents:02}");
            let money = eur(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(money.to_decimal_string(), text);
        }

        #[test]
        fn checked_addition_never_wraps(
            a in -MAX_AMOUNT_MINOR..=MAX_AMOUNT_MINOR,
            b in -MAX_AMOUNT_MINOR..=MAX_AMOUNT_MINOR,
        ) {
            let sum = Money::from_minor(a, Currency::EUR)
                .and_then(|x| Money::from_minor(b, Currency::EUR).and_then(|y| x.checked_add(y)));
            let exact = i128::from(a) + i128::from(b);
            match sum {
                Ok(money) => prop_assert_eq!(i128::from(money.amount_minor()), exact),
                Err(error) => {
                    prop_assert_eq!(error, MoneyError::Overflow);
                    prop_assert!(exact.unsigned_abs() > MAX_AMOUNT_MINOR.unsigned_abs() as u128);
                }
            }
        }
    }
}
