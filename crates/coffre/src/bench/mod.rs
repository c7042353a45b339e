//! `coffre bench`: a load generator against a running server.
//!
//! It logs in as a staff user, sets up its own customer and accounts (funded by deposits), then
//! keeps `connections` HTTP/1.1 keep-alive connections sending one workload's requests (with
//! real sessions and `Idempotency-Key`s: every counted write is committed) for `duration`, and
//! reports throughput, latency percentiles and errors by status.

mod client;
mod measure;
mod report;
mod setup;
mod workload;

use std::time::{Duration, Instant};

pub(crate) use workload::Workload;

use self::client::Client;
use self::measure::Tally;
use self::report::Report;
use self::workload::Generator;

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct BenchOptions {
    /// The server's base URL.
    pub(crate) url: String,
    /// A staff login allowed to open customers and accounts (teller or admin).
    pub(crate) username: String,
    /// Its password.
    pub(crate) password: String,
    /// Concurrent connections.
    pub(crate) connections: usize,
    /// How long to send.
    pub(crate) duration: Duration,
    /// How many accounts the requests are spread over (at least 2).
    pub(crate) accounts: usize,
    /// What to send.
    pub(crate) workload: Workload,
    /// Print one JSON object instead of text.
    pub(crate) json: bool,
}

/// Runs the benchmark and prints its report; fails (after printing) when any request failed.
pub(crate) async fn run(options: BenchOptions) -> anyhow::Result<()> {
    let run = uuid::Uuid::now_v7().simple().to_string();
    let client = Client::login(&options.url, &options.username, &options.password).await?;
    let accounts = setup::accounts(&client, options.accounts.max(2), &run).await?;
    let connections = options.connections.max(1);
    let started = Instant::now();
    let deadline = started + options.duration;
    let tasks: Vec<_> = (0..connections)
        .map(|seed| {
            let generator = Generator::new(options.workload, accounts.clone(), &run, seed as u64);
            tokio::spawn(measure::drive(client.new_connection(), generator, deadline))
        })
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await?);
    }
    let report = Report::new(options.workload, connections, started.elapsed(), tally);
    #[allow(clippy::print_stdout)] // The report on stdout is this command's output.
    if options.json {
        println!("{}", report.to_json());
    } else {
        println!("{}", report.to_text());
    }
    let failed = report.error_count();
    anyhow::ensure!(failed == 0, "{failed} requests failed");
    Ok(())
}
