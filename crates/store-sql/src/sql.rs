//! Statement text that takes one engine-specific clause.

use sqlx::AssertSqlSafe;

use crate::engine::Engine;

/// `select` followed by the engine's row-lock clause ([`Engine::FOR_UPDATE`]): a `SELECT`
/// whose rows stay locked until the transaction ends. Only constant text goes in, never a
/// value: values are bound.
pub(crate) fn for_update<E: Engine>(select: &'static str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!("{select}{}", E::FOR_UPDATE))
}
