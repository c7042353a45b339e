//! The audit log, its chain check and the trial balance on the wire.

use std::fmt::Write as _;

use coffre_app::audit::{ChainReport, CurrencyBalance, EventPage, EventQuery};
use coffre_app::ports::EventFilter;
use coffre_domain::Currency;
use coffre_domain::events::EventRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::{CurrencyCode, MoneyDto};
use super::timestamp;

/// Filters and keyset paging of the event log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Only the events of this stream (a customer, account, transaction or hold id).
    pub stream: Option<Uuid>,
    /// Only events of this type, e.g. `AccountFrozen`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

impl EventListQuery {
    /// The use case's query.
    pub fn into_query(self) -> EventQuery {
        EventQuery {
            filter: EventFilter {
                stream_id: self.stream,
                event_type: self.event_type,
            },
            cursor: self.cursor,
            limit: self.limit,
        }
    }
}

/// One event of the log, as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    /// Position in the whole log, from 1, without gaps.
    pub sequence: i64,
    /// The stream (customer, account, transaction or hold) it belongs to.
    pub stream_id: Uuid,
    /// Position in its stream, from 1.
    pub stream_version: i64,
    /// The event type, e.g. `AccountFrozen`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's fields.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Who caused it: `user:<id>` or `system`.
    pub actor: String,
    /// When it was recorded.
    pub occurred_at: String,
    /// `SHA-256(previous hash ‖ this event)`, in lower-case hex.
    pub hash: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            let _infallible = write!(text, "{byte:02x}");
            text
        })
}

impl From<EventRecord> for EventDto {
    fn from(record: EventRecord) -> Self {
        // A stored payload is always JSON; should one not be, it is shown as text, not hidden.
        let payload = serde_json::from_str(&record.payload)
            .unwrap_or_else(|_| serde_json::Value::String(record.payload.clone()));
        EventDto {
            sequence: record.sequence,
            stream_id: record.stream_id,
            stream_version: record.stream_version,
            event_type: record.event_type,
            payload,
            actor: record.actor,
            occurred_at: timestamp::format(record.occurred_at),
            hash: hex(&record.hash),
        }
    }
}

/// One page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPageDto {
    /// The events, in sequence order.
    pub items: Vec<EventDto>,
    /// The cursor of the next page, or `null` on the last one.
    pub next_cursor: Option<String>,
}

impl From<EventPage> for EventPageDto {
    fn from(page: EventPage) -> Self {
        EventPageDto {
            items: page.items.into_iter().map(EventDto::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// What the hash-chain check found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainReportDto {
    /// True when every event checks out.
    pub ok: bool,
    /// How many events checked out.
    pub events_checked: i64,
    /// The sequence of the first event that does not check out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<i64>,
}

impl From<ChainReport> for ChainReportDto {
    fn from(report: ChainReport) -> Self {
        ChainReportDto {
            ok: report.ok,
            events_checked: report.events_checked,
            first_broken: report.first_broken,
        }
    }
}

/// An internal account's balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct InternalBalanceDto {
    /// Its name, e.g. `cash:EUR`.
    pub name: String,
    /// Its balance.
    pub balance: MoneyDto,
}

/// The trial balance of one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrialBalanceDto {
    /// The currency.
    pub currency: CurrencyCode,
    /// The sum of all customer account balances.
    pub customer_accounts_total: MoneyDto,
    /// The bank's own accounts in this currency.
    pub internal_accounts: Vec<InternalBalanceDto>,
    /// Customer plus internal balances: always zero.
    pub total: MoneyDto,
}

/// A signed amount of minor units as money (written out directly: a total may pass the
/// largest amount a request may carry).
fn money(minor: i64, currency: Currency) -> MoneyDto {
    let digits = currency.minor_digits();
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    let amount = match 10u64.checked_pow(digits) {
        Some(unit) if digits > 0 => format!(
            "{sign}{}.{:0width$}",
            magnitude / unit,
            magnitude % unit,
            width = digits as usize
        ),
        _ => format!("{sign}{magnitude}"),
    };
    MoneyDto {
        amount,
        currency: currency.into(),
    }
}

impl From<CurrencyBalance> for TrialBalanceDto {
    fn from(line: CurrencyBalance) -> Self {
        let currency = line.currency;
        TrialBalanceDto {
            currency: currency.into(),
            customer_accounts_total: money(line.customer_accounts_minor, currency),
            internal_accounts: line
                .internal_accounts
                .into_iter()
                .map(|(account, balance)| InternalBalanceDto {
                    name: account.name(),
                    balance: money(balance, currency),
                })
                .collect(),
            total: money(line.total_minor, currency),
        }
    }
}

/// The trial balance, per currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrialBalanceListDto {
    /// One entry per currency.
    pub items: Vec<TrialBalanceDto>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_signed_decimal_strings() {
        assert_eq!(money(-123_456, Currency::EUR).amount, "-1234.56");
        assert_eq!(money(5, Currency::EUR).amount, "0.05");
        assert_eq!(money(0, Currency::USD).amount, "0.00");
        assert_eq!(money(-42, Currency::JPY).amount, "-42");
    }

    #[test]
    fn hashes_are_lower_case_hex() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
