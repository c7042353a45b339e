//! The read cache's metric: each read counted by kind and result.

/// Counts one read of a `kind`: `hit`, `miss`, or `bypass` (the shared tier was left alone).
pub(super) fn count(kind: &'static str, result: &'static str) {
    metrics::counter!("coffre_cache_requests_total", "cache" => kind, "result" => result)
        .increment(1);
}
