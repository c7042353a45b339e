//! Statements over many rows at once. SQLite takes at most 32 766 bound parameters per
//! statement: larger sets are split into chunks below that.

use sqlx::{Encode, QueryBuilder, Sqlite, Type};

/// The most parameters one statement binds.
pub(crate) const MAX_BINDS: usize = 32_000;

/// Pushes `values` as bound parameters separated by commas, for `IN (…)`.
pub(crate) fn push_list<'t, T>(
    query: &mut QueryBuilder<Sqlite>,
    values: impl IntoIterator<Item = T>,
) where
    T: Encode<'t, Sqlite> + Type<Sqlite>,
{
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
}
