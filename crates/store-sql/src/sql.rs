//! Statement text that takes an engine-specific clause.

use sqlx::AssertSqlSafe;

use crate::engine::Engine;

/// How a `SELECT` in a write transaction locks the rows it reads, until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowLock {
    /// No lock: a plain read.
    None,
    /// Others may read and share-lock the rows, nobody may change them ([`Engine::FOR_SHARE`]).
    Shared,
    /// Nobody else may lock or change the rows ([`Engine::FOR_UPDATE`]).
    Exclusive,
}

impl RowLock {
    /// `select` followed by this lock's clause in the engine's SQL. Only constant text goes
    /// in, never a value: values are bound.
    pub(crate) fn applied_to<E: Engine>(self, select: &'static str) -> AssertSqlSafe<String> {
        let clause = match self {
            RowLock::None => "",
            RowLock::Shared => E::FOR_SHARE,
            RowLock::Exclusive => E::FOR_UPDATE,
        };
        AssertSqlSafe(format!("{select}{clause}"))
    }
}

/// `select` followed by the engine's row-lock clause ([`Engine::FOR_UPDATE`]).
pub(crate) fn for_update<E: Engine>(select: &'static str) -> AssertSqlSafe<String> {
    RowLock::Exclusive.applied_to::<E>(select)
}
