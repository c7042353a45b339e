//! Account history: statement lines with their running balance (keyset-paginated), and the
//! monthly statement with its opening and closing balances.

use coffre_domain::{Account, AccountId};
use time::{Date, Month, OffsetDateTime, Time};

use crate::ports::{Clock, LinesPage, StatementFilter, StatementLine, Storage};
use crate::{AppError, Principal, Service};

/// The largest page of statement lines.
pub const MAX_LINES_LIMIT: u32 = 100;

/// The page size when the client names none.
pub const DEFAULT_LINES_LIMIT: u32 = 20;

/// How many lines the monthly statement reads per query.
const STATEMENT_CHUNK: u32 = 500;

/// A calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementMonth {
    /// The year.
    pub year: i32,
    /// The month.
    pub month: Month,
}

/// The first and last years a statement may be asked for: nothing is booked before the Unix
/// epoch, and a year past 2999 is a typo or a probe, not a month anyone banks in.
pub const STATEMENT_YEARS: std::ops::RangeInclusive<i32> = 1970..=2999;

impl StatementMonth {
    /// Parses `YYYY-MM`, a month of [`STATEMENT_YEARS`].
    pub fn parse(text: &str) -> Option<Self> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let year = year.parse::<i32>().ok()?;
        if !STATEMENT_YEARS.contains(&year) {
            return None;
        }
        let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
        Date::from_calendar_date(year, month, 1).ok()?;
        Some(StatementMonth { year, month })
    }

    /// Its first instant (midnight UTC on the 1st).
    pub fn start(self) -> Option<OffsetDateTime> {
        Date::from_calendar_date(self.year, self.month, 1)
            .ok()
            .map(|day| day.with_time(Time::MIDNIGHT).assume_utc())
    }

    /// The first instant of the next month.
    pub fn end(self) -> Option<OffsetDateTime> {
        let next_year = if self.month == Month::December {
            self.year.checked_add(1)?
        } else {
            self.year
        };
        StatementMonth {
            year: next_year,
            month: self.month.next(),
        }
        .start()
    }
}

impl std::fmt::Display for StatementMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

/// What a monthly statement prints above its lines.
///
/// The totals, the line count and `last_entry_id` come from one query, so they describe one
/// snapshot; the lines are then read up to `last_entry_id` (an account's `entry_id`s follow its
/// booking order, and booked lines never change), so the lines streamed later are exactly the
/// ones counted, even while new lines are being booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementSummary {
    /// The account, as read when the statement was made.
    pub account: Account,
    /// The month.
    pub month: StatementMonth,
    /// The balance at the start of the month, in minor units.
    pub opening_minor: i64,
    /// The balance at the end of the month (after its last line), in minor units.
    pub closing_minor: i64,
    /// The sum of the month's debits, in minor units.
    pub total_debits_minor: i64,
    /// The sum of the month's credits, in minor units.
    pub total_credits_minor: i64,
    /// How many lines the month has.
    pub line_count: u64,
    /// The month's last line, when it has one.
    pub last_entry_id: Option<i64>,
}

/// A monthly statement with every line, for formats built whole (the PDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// What the statement prints above its lines.
    pub summary: StatementSummary,
    /// Every line of the month, in booking order.
    pub lines: Vec<StatementLine>,
}

/// A month's lines, read page by page so that memory does not grow with the month.
#[derive(Debug)]
pub struct StatementPages<S> {
    store: S,
    account: AccountId,
    filter: StatementFilter,
    after: Option<i64>,
    /// The last line to read (the summary's); `None` once every line was read.
    last: Option<i64>,
}

impl<S: Storage> StatementPages<S> {
    /// The next page of lines in booking order, `None` after the last line.
    pub async fn next_page(&mut self) -> Result<Option<Vec<StatementLine>>, AppError> {
        let Some(last) = self.last else {
            return Ok(None);
        };
        let mut page = self
            .store
            .statement_lines(self.account, &self.filter, self.after, STATEMENT_CHUNK)
            .await?;
        let short = page.len() < STATEMENT_CHUNK as usize;
        let reached = page.last().is_some_and(|line| line.entry_id >= last);
        page.retain(|line| line.entry_id <= last);
        if short || reached {
            self.last = None;
        }
        self.after = page.last().map(|line| line.entry_id).or(self.after);
        Ok(if page.is_empty() { None } else { Some(page) })
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// One page of an account's statement lines (owner or staff), after `cursor`.
    pub async fn statement_lines(
        &self,
        caller: &Principal,
        account_id: AccountId,
        filter: StatementFilter,
        cursor: Option<i64>,
        limit: Option<u32>,
    ) -> Result<LinesPage, AppError> {
        let limit = limit.unwrap_or(DEFAULT_LINES_LIMIT);
        if !(1..=MAX_LINES_LIMIT).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LINES_LIMIT}"),
            ));
        }
        self.get_account(caller, account_id).await?;
        let load = self.load_lines(account_id, filter, cursor, limit);
        let recent = filter == StatementFilter::default()
            && cursor.is_none()
            && limit == DEFAULT_LINES_LIMIT;
        if recent {
            self.cache.recent_lines(account_id, load).await
        } else {
            load.await
        }
    }

    async fn load_lines(
        &self,
        account_id: AccountId,
        filter: StatementFilter,
        cursor: Option<i64>,
        limit: u32,
    ) -> Result<LinesPage, AppError> {
        // One line more than asked tells whether there is a next page.
        let mut items = self
            .store
            .statement_lines(account_id, &filter, cursor, limit + 1)
            .await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|line| line.entry_id)
        } else {
            None
        };
        Ok(LinesPage { items, next_cursor })
    }

    /// What the month's statement prints above its lines (owner or staff).
    pub async fn statement_summary(
        &self,
        caller: &Principal,
        account_id: AccountId,
        month: StatementMonth,
    ) -> Result<StatementSummary, AppError> {
        let account = self.get_account(caller, account_id).await?;
        let (Some(start), Some(end)) = (month.start(), month.end()) else {
            return Err(AppError::invalid("month", "out of range"));
        };
        let opening_minor = self.store.balance_before(account_id, start).await?;
        let totals = self.store.statement_totals(account_id, start, end).await?;
        // Each line's balance is the one before it plus its credit minus its debit, so the
        // closing balance is the opening one plus the month's movements.
        let closing_minor = opening_minor
            .checked_add(totals.credits_minor)
            .and_then(|balance| balance.checked_sub(totals.debits_minor))
            .ok_or_else(|| AppError::Unknown(anyhow::anyhow!("statement balance overflow")))?;
        Ok(StatementSummary {
            account,
            month,
            opening_minor,
            closing_minor,
            total_debits_minor: totals.debits_minor,
            total_credits_minor: totals.credits_minor,
            line_count: totals.lines,
            last_entry_id: totals.last_entry_id,
        })
    }

    /// The summarised month's lines, page by page: exactly the lines the summary counted.
    pub fn statement_pages(&self, summary: &StatementSummary) -> StatementPages<S> {
        StatementPages {
            store: self.store.clone(),
            account: summary.account.id,
            filter: StatementFilter {
                from: summary.month.start(),
                to: summary.month.end(),
                transaction_type: None,
            },
            after: None,
            last: summary.last_entry_id,
        }
    }

    /// The statement of one calendar month with every line (owner or staff), refused with
    /// [`AppError::StatementTooLarge`] when the month has more than `max_lines` lines.
    pub async fn monthly_statement(
        &self,
        caller: &Principal,
        account_id: AccountId,
        month: StatementMonth,
        max_lines: u64,
    ) -> Result<Statement, AppError> {
        let summary = self.statement_summary(caller, account_id, month).await?;
        if summary.line_count > max_lines {
            return Err(AppError::StatementTooLarge {
                lines: summary.line_count,
                limit: max_lines,
            });
        }
        let mut pages = self.statement_pages(&summary);
        let mut lines = Vec::new();
        while let Some(page) = pages.next_page().await? {
            lines.extend(page);
        }
        Ok(Statement { summary, lines })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_bound() {
        let month = StatementMonth::parse("2026-12");
        assert_eq!(
            month,
            Some(StatementMonth {
                year: 2026,
                month: Month::December
            })
        );
        let end = month.and_then(StatementMonth::end);
        assert_eq!(end, Some(time::macros::datetime!(2027-01-01 00:00 UTC)));
        assert_eq!(StatementMonth::parse("2026-13"), None);
        assert_eq!(StatementMonth::parse("2026-1"), None);
        assert_eq!(month.map(|m| m.to_string()).as_deref(), Some("2026-12"));
    }
}
