//! The process-wide Prometheus recorder.

use std::sync::Mutex;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::middleware::access_log::LATENCY_BUCKETS_SECONDS;

/// Installs the recorder once per process and returns its handle (tests build many routers
/// in one process; the `metrics` facade allows a single global recorder).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
    let mut installed = HANDLE
        .lock()
        .map_err(|_| anyhow::anyhow!("metrics recorder lock poisoned"))?;
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".into()),
            LATENCY_BUCKETS_SECONDS,
        )?
        .install_recorder()?;
    *installed = Some(handle.clone());
    Ok(handle)
}
