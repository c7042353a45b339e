//! How SQLite stores an instant: as fixed-width UTC text.
//!
//! SQLite has no timestamp type. sqlx's own encoding of an `OffsetDateTime` is RFC 3339 text,
//! which keeps the caller's offset and a fraction of varying length, so its text order is not
//! time order; the store formats instants itself instead. Reading needs nothing of the kind: sqlx parses this text
//! back into an `OffsetDateTime`, which is why the rows of `coffre-store-sql` read SQLite too.

use coffre_app::ports::StoreError;
use coffre_store_sql::writes::stored_instant;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// The one text form of an instant in this database: fixed width and UTC, so that text order
/// is time order, with the microsecond precision PostgreSQL also keeps.
const INSTANT_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The text written for an instant (see [`INSTANT_FORMAT`]), at the stored precision.
pub(crate) fn instant_text(instant: OffsetDateTime) -> Result<String, StoreError> {
    stored_instant(instant)
        .format(INSTANT_FORMAT)
        .map_err(|error| {
            StoreError::Unknown(anyhow::Error::new(error).context("failed to format an instant"))
        })
}

/// The text written for an optional instant.
pub(crate) fn optional_instant_text(
    instant: Option<OffsetDateTime>,
) -> Result<Option<String>, StoreError> {
    instant.map(instant_text).transpose()
}
