//! The workloads: which request each connection sends next.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::Call;

/// Transfers per request of the `batch` workload (the most a batch may hold).
pub(crate) const BATCH_SIZE: usize = 1_000;

/// What the benchmark sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Workload {
    /// `POST /v1/transactions`: transfers between any two distinct accounts.
    TransferUniform,
    /// `POST /v1/transactions`: every transfer credits one hot account, debiting any other.
    TransferHot,
    /// `POST /v1/transactions/batch`: 1 000 uniform transfers per atomic request.
    Batch,
    /// `GET /v1/accounts/{id}/balance` of any account.
    ReadBalance,
    /// 90 % balance reads, 10 % uniform transfers.
    Mixed,
}

impl Workload {
    /// Its name on the command line and in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::TransferUniform => "transfer-uniform",
            Workload::TransferHot => "transfer-hot",
            Workload::Batch => "batch",
            Workload::ReadBalance => "read-balance",
            Workload::Mixed => "mixed",
        }
    }

    /// Whether throughput counts transfers rather than requests.
    pub(crate) fn counts_transfers(self) -> bool {
        self == Workload::Batch
    }
}

/// One connection's stream of requests: random, but reproducible from its seed.
pub(super) struct Generator {
    workload: Workload,
    accounts: Vec<String>,
    /// Makes idempotency keys unique across runs and connections.
    key_prefix: String,
    sent: u64,
    state: u64,
}

impl Generator {
    /// The generator of connection `seed` of run `run`.
    pub(super) fn new(workload: Workload, accounts: Vec<String>, run: &str, seed: u64) -> Self {
        Generator {
            workload,
            accounts,
            key_prefix: format!("bench-{run}-{seed}"),
            sent: 0,
            state: seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// A number in `0..bound` (xorshift64: choosing accounts needs speed, not cryptographic
    /// quality).
    fn below(&mut self, bound: usize) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let bound = u64::try_from(bound.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.state % bound).unwrap_or(0)
    }

    /// The next request.
    pub(super) fn next_call(&mut self) -> Call {
        self.sent += 1;
        match self.workload {
            Workload::TransferUniform => self.transfer_call(false),
            Workload::TransferHot => self.transfer_call(true),
            Workload::Batch => {
                let transfers: Vec<Value> = (0..BATCH_SIZE).map(|_| self.transfer(false)).collect();
                Call::write(
                    Method::POST,
                    "/v1/transactions/batch",
                    json!({"atomic": true, "transactions": transfers}),
                    Some(self.key()),
                )
            }
            Workload::ReadBalance => self.balance_call(),
            Workload::Mixed => {
                if self.below(10) == 0 {
                    self.transfer_call(false)
                } else {
                    self.balance_call()
                }
            }
        }
    }

    fn key(&self) -> String {
        format!("{}-{}", self.key_prefix, self.sent)
    }

    fn transfer_call(&mut self, hot: bool) -> Call {
        let body = self.transfer(hot);
        Call::write(Method::POST, "/v1/transactions", body, Some(self.key()))
    }

    fn balance_call(&mut self) -> Call {
        let account = self.below(self.accounts.len());
        let id = self.accounts.get(account).map_or("", String::as_str);
        Call::get(format!("/v1/accounts/{id}/balance"))
    }

    /// A transfer of 0.01 to 0.99 EUR between two distinct accounts; when `hot`, to account 0.
    fn transfer(&mut self, hot: bool) -> Value {
        let count = self.accounts.len();
        let (source, destination) = if hot {
            (1 + self.below(count.saturating_sub(1)), 0)
        } else {
            let source = self.below(count);
            let destination = (source + 1 + self.below(count.saturating_sub(1))) % count.max(1);
            (source, destination)
        };
        json!({
            "type": "TRANSFER",
            "source_account_id": self.accounts.get(source),
            "destination_account_id": self.accounts.get(destination),
            "amount": {"amount": format!("0.{:02}", 1 + self.below(99)), "currency": "EUR"},
        })
    }
}
