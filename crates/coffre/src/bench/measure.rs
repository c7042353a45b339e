//! Sending requests until the deadline and keeping count: latencies, units of work, errors.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Deserialize;

use super::client::Client;
use super::workload::{BATCH_SIZE, Generator};

/// The error key of requests that got no HTTP answer (connection refused or reset, timeout).
pub(super) const TRANSPORT: &str = "transport";
/// The error key of batches answered 200 that did not book their transfers.
pub(super) const REFUSED: &str = "refused";

/// What one or more connections measured.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Latencies of the successful requests, in microseconds.
    pub(super) latencies_us: Vec<u64>,
    /// Successful requests.
    pub(super) requests: u64,
    /// Transfers booked by the successful requests (batch only; otherwise unused).
    pub(super) transfers: u64,
    /// Failed requests by HTTP status (as text), [`TRANSPORT`] or [`REFUSED`].
    pub(super) errors: BTreeMap<String, u64>,
}

impl Tally {
    /// Adds another connection's counts.
    pub(super) fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.requests += other.requests;
        self.transfers += other.transfers;
        for (key, count) in other.errors {
            *self.errors.entry(key).or_default() += count;
        }
    }

    fn error(&mut self, key: &str) {
        *self.errors.entry(key.to_owned()).or_default() += 1;
    }
}

/// The part of a batch answer the benchmark checks.
#[derive(Deserialize)]
struct BatchAnswer {
    committed: bool,
}

/// One connection's loop: sends the generator's requests one after the other until the
/// deadline, and counts.
pub(super) async fn drive(client: Client, mut generator: Generator, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let call = generator.next_call();
        let started = Instant::now();
        let answer = client.call(&call).await;
        let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match answer {
            Err(_) => tally.error(TRANSPORT),
            Ok((status, _)) if !(200..300).contains(&status) => tally.error(&status.to_string()),
            Ok((_, body)) if call.path.ends_with("/batch") => {
                match serde_json::from_slice::<BatchAnswer>(&body) {
                    Ok(BatchAnswer { committed: true }) => {
                        tally.latencies_us.push(elapsed);
                        tally.requests += 1;
                        tally.transfers += BATCH_SIZE as u64;
                    }
                    _ => tally.error(REFUSED),
                }
            }
            Ok(_) => {
                tally.latencies_us.push(elapsed);
                tally.requests += 1;
            }
        }
    }
    tally
}

/// The `per_mille`-th quantile (0..=1000) of sorted latencies, in microseconds (nearest rank
/// below; 0 when there are none).
pub(super) fn quantile_us(sorted: &[u64], per_mille: usize) -> u64 {
    let index = sorted.len().saturating_sub(1) * per_mille / 1000;
    sorted.get(index).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_nearest_rank_below() {
        let sorted: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile_us(&sorted, 500), 500);
        assert_eq!(quantile_us(&sorted, 990), 990);
        assert_eq!(quantile_us(&sorted, 999), 999);
        assert_eq!(quantile_us(&sorted, 1000), 1000);
        assert_eq!(quantile_us(&[], 500), 0);
    }

    #[test]
    fn merging_adds_errors_by_key() {
        let mut a = Tally::default();
        a.error("429");
        let mut b = Tally::default();
        b.error("429");
        b.error(TRANSPORT);
        b.requests = 3;
        a.merge(b);
        assert_eq!(a.errors.get("429"), Some(&2));
        assert_eq!(a.errors.get(TRANSPORT), Some(&1));
        assert_eq!(a.requests, 3);
    }
}
