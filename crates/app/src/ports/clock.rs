//! The clock's port.

use time::OffsetDateTime;

/// The current time. A port so that expiry rules can be tested without waiting.
pub trait Clock: Clone + Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}
