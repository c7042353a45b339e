//! The figures of a run, as one JSON object or a short text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::measure::{Tally, quantile_us};
use super::workload::Workload;

/// The figures of a run.
#[derive(Debug)]
pub(super) struct Report {
    workload: Workload,
    connections: usize,
    duration_s: f64,
    requests: u64,
    throughput_per_s: f64,
    /// p50, p90, p99 and p99.9, in milliseconds.
    latency_ms: [(&'static str, f64); 4],
    errors: BTreeMap<String, u64>,
}

impl Report {
    /// The figures of `tally`, measured over `elapsed`; throughput counts transfers for
    /// `batch`, requests otherwise.
    // Display only: these figures are printed, never computed with, and no money is involved.
    #[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
    pub(super) fn new(
        workload: Workload,
        connections: usize,
        elapsed: Duration,
        mut tally: Tally,
    ) -> Report {
        tally.latencies_us.sort_unstable();
        let ms = |per_mille| quantile_us(&tally.latencies_us, per_mille) as f64 / 1000.0;
        let units = if workload.counts_transfers() {
            tally.transfers
        } else {
            tally.requests
        };
        let seconds = elapsed.as_secs_f64();
        let throughput = if seconds > 0.0 {
            units as f64 / seconds
        } else {
            0.0
        };
        Report {
            workload,
            connections,
            duration_s: (seconds * 1000.0).round() / 1000.0,
            requests: tally.requests,
            throughput_per_s: (throughput * 10.0).round() / 10.0,
            latency_ms: [
                ("p50", ms(500)),
                ("p90", ms(900)),
                ("p99", ms(990)),
                ("p999", ms(999)),
            ],
            errors: tally.errors,
        }
    }

    /// Failed requests, all causes together.
    pub(super) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// `{workload, connections, duration_s, requests, throughput_per_s, latency_ms: {p50, p90,
    /// p99, p999}, errors: {status: count}}`.
    pub(super) fn to_json(&self) -> Value {
        let latency: serde_json::Map<String, Value> = self
            .latency_ms
            .iter()
            .map(|(name, ms)| ((*name).to_owned(), json!(ms)))
            .collect();
        json!({
            "workload": self.workload.name(),
            "connections": self.connections,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "throughput_per_s": self.throughput_per_s,
            "latency_ms": latency,
            "errors": self.errors,
        })
    }

    /// A few lines for a person.
    pub(super) fn to_text(&self) -> String {
        let unit = if self.workload.counts_transfers() {
            "transfers"
        } else {
            "requests"
        };
        let mut text = format!(
            "{}: {} connections, {} s\n  {} requests, {} {unit}/s\n  latency",
            self.workload.name(),
            self.connections,
            self.duration_s,
            self.requests,
            self.throughput_per_s,
        );
        for (name, ms) in &self.latency_ms {
            let _ = write!(text, "  {name} {ms:.1} ms");
        }
        text.push_str("\n  errors");
        if self.errors.is_empty() {
            text.push_str(" none");
        }
        for (key, count) in &self.errors {
            let _ = write!(text, " {key}={count}");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_throughput_counts_transfers_and_the_json_has_the_documented_shape() {
        let tally = Tally {
            latencies_us: vec![3_000, 1_000, 2_000],
            requests: 3,
            transfers: 3_000,
            errors: BTreeMap::from([("429".to_owned(), 2)]),
        };
        let report = Report::new(Workload::Batch, 4, Duration::from_secs(2), tally);
        assert_eq!(
            report.to_json(),
            json!({
                "workload": "batch", "connections": 4, "duration_s": 2.0, "requests": 3,
                "throughput_per_s": 1500.0,
                "latency_ms": {"p50": 2.0, "p90": 2.0, "p99": 2.0, "p999": 2.0},
                "errors": {"429": 2},
            })
        );
        assert_eq!(report.error_count(), 2);
    }
}
