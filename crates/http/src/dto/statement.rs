//! Account history on the wire: statement lines and the monthly statement.

use coffre_app::FieldError;
use coffre_app::ports::{StatementFilter, StatementLine};
use coffre_app::statements::{StatementMonth, StatementSummary};
use coffre_domain::ledger::Direction;
use coffre_domain::{Currency, Money};
use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, Time};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::{CurrencyCode, MoneyDto};
use super::timestamp;
use super::transaction::{DirectionDto, TransactionTypeDto};

/// An amount in minor units as Money. Balances stay within range (the ledger refuses any
/// movement that would leave it), so the fallback is never used.
pub fn money(minor: i64, currency: Currency) -> MoneyDto {
    Money::from_minor(minor, currency)
        .map(Into::into)
        .unwrap_or_else(|_| Money::zero(currency).into())
}

/// One line of an account's history: a posting, with the balance right after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLineDto {
    /// The line's position in the account's history (strictly increasing).
    pub entry_id: i64,
    /// The transaction.
    pub transaction_id: Uuid,
    /// The transaction's type.
    #[serde(rename = "type")]
    pub transaction_type: TransactionTypeDto,
    /// Statement text.
    pub label: Option<String>,
    /// Debit (money out) or credit (money in).
    pub direction: DirectionDto,
    /// The amount (positive).
    pub amount: MoneyDto,
    /// The account's balance right after this line.
    pub balance_after: MoneyDto,
    /// When it was booked.
    #[schema(format = DateTime)]
    pub booked_at: String,
}

impl From<&StatementLine> for StatementLineDto {
    fn from(line: &StatementLine) -> Self {
        StatementLineDto {
            entry_id: line.entry_id,
            transaction_id: line.transaction_id.0,
            transaction_type: line.transaction_type.into(),
            label: line.label.clone(),
            direction: match line.direction {
                Direction::Debit => DirectionDto::DEBIT,
                Direction::Credit => DirectionDto::CREDIT,
            },
            amount: line.amount.into(),
            balance_after: money(line.balance_after_minor, line.amount.currency()),
            booked_at: timestamp::format(line.booked_at),
        }
    }
}

/// One page of statement lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLinesDto {
    /// The lines, in booking order.
    pub items: Vec<StatementLineDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of an account's statement lines.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementLinesQuery {
    /// Only lines booked on or after this day (UTC, `YYYY-MM-DD`).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Only lines booked on or before this day (UTC, `YYYY-MM-DD`, inclusive).
    #[param(format = Date)]
    pub to: Option<String>,
    /// Only lines of transactions of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", inline)]
    pub transaction_type: Option<TransactionTypeDto>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A `YYYY-MM-DD` day.
fn parse_day(field: &str, text: &str) -> Result<Date, FieldError> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| FieldError::new(field, "must be a date, YYYY-MM-DD"))
}

impl StatementLinesQuery {
    /// The store filter and the cursor, collecting every invalid parameter.
    pub fn try_into_domain(&self) -> Result<(StatementFilter, Option<i64>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut day = |field: &str, text: &Option<String>| match text.as_deref() {
            None => None,
            Some(text) => parse_day(field, text).map_err(|e| errors.push(e)).ok(),
        };
        let from = day("from", &self.from);
        let to = day("to", &self.to);
        let cursor = match self.cursor.as_deref() {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(cursor) if cursor >= 0 => Some(cursor),
                _ => {
                    errors.push(FieldError::new("cursor", "not a cursor this API returned"));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let filter = StatementFilter {
            from: from.map(|d| d.with_time(Time::MIDNIGHT).assume_utc()),
            // `to` is inclusive: lines before the start of the next day.
            to: to
                .and_then(Date::next_day)
                .map(|d| d.with_time(Time::MIDNIGHT).assume_utc()),
            transaction_type: self.transaction_type.map(Into::into),
        };
        Ok((filter, cursor))
    }
}

/// Which month's statement.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// The calendar month (UTC), `YYYY-MM`, from 1970-01 to 2999-12.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2026-11")]
    pub month: String,
}

impl StatementQuery {
    /// The month.
    pub fn try_into_domain(&self) -> Result<StatementMonth, Vec<FieldError>> {
        StatementMonth::parse(&self.month).ok_or_else(|| {
            vec![FieldError::new(
                "month",
                "must be a month, YYYY-MM, from 1970-01 to 2999-12",
            )]
        })
    }
}

/// A monthly statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementDto {
    /// The account.
    pub account_id: Uuid,
    /// Its IBAN.
    pub iban: String,
    /// Its currency.
    pub currency: CurrencyCode,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The balance at the start of the month.
    pub opening_balance: MoneyDto,
    /// The balance at the end of the month.
    pub closing_balance: MoneyDto,
    /// The sum of the month's debits.
    pub total_debits: MoneyDto,
    /// The sum of the month's credits.
    pub total_credits: MoneyDto,
    /// Every line of the month, in booking order.
    pub lines: Vec<StatementLineDto>,
}

impl StatementDto {
    /// The statement without its lines (they are streamed after it).
    pub fn head(s: &StatementSummary) -> Self {
        let currency = s.account.currency;
        StatementDto {
            account_id: s.account.id.0,
            iban: s.account.iban.electronic().to_owned(),
            currency: currency.into(),
            month: s.month.to_string(),
            opening_balance: money(s.opening_minor, currency),
            closing_balance: money(s.closing_minor, currency),
            total_debits: money(s.total_debits_minor, currency),
            total_credits: money(s.total_credits_minor, currency),
            lines: Vec::new(),
        }
    }
}
