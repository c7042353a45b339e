//! Timestamps as the contract writes them: RFC 3339, UTC, milliseconds (`2026-11-21T10:00:00.123Z`).

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats an instant for a response.
pub fn format(instant: OffsetDateTime) -> String {
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_else(|_| instant.unix_timestamp().to_string())
}

/// Formats an optional instant.
pub fn format_opt(instant: Option<OffsetDateTime>) -> Option<String> {
    instant.map(format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(
            format(datetime!(2026-11-21 11:00:00.123456 +01:00)),
            "2026-11-21T10:00:00.123Z"
        );
    }
}
