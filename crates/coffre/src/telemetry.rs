//! Structured JSON logs on standard output, one line per event. A line logged while a request
//! is served carries the request's span (`span.request_id`, `span.client_ip`).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber with the configured filter (`COFFRE_LOG`).
pub(crate) fn init(filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid log filter {filter:?}: {e}"))?;
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init()
        .map_err(|e| anyhow::anyhow!("failed to install the log subscriber: {e}"))
}
