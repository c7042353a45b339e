//! The real clock.

use coffre_app::ports::Clock;
use time::OffsetDateTime;

/// The system's clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Truncated to the microsecond, the precision both databases store, so that what a
    /// write returns is exactly what a later read returns.
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
            .unwrap_or(now)
    }
}
