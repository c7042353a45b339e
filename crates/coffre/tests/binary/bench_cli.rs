//! `coffre bench` against the real binary: every workload runs for two seconds without an
//! error and prints the documented JSON object; `batch` counts transfers, not requests; and
//! afterwards the books still balance.

use anyhow::Context as _;
use serde_json::Value;

use crate::support::{Api, STAFF_PASSWORD, Site, json_line, ledger_facts};

const WORKLOADS: [&str; 5] = [
    "transfer-uniform",
    "transfer-hot",
    "batch",
    "read-balance",
    "mixed",
];
const DURATION_S: u64 = 2;

/// Runs `coffre bench --json` and returns its report.
fn bench(site: &Site, url: &str, workload: &str) -> anyhow::Result<Value> {
    let duration = DURATION_S.to_string();
    let (ran, stdout, stderr) = site.run_with_password(&[
        "bench",
        "--url",
        url,
        "--username",
        "bench",
        "--password-stdin",
        "--workload",
        workload,
        "--connections",
        "4",
        "--duration",
        &duration,
        "--json",
    ])?;
    anyhow::ensure!(ran, "bench {workload} failed: {stdout} {stderr}");
    json_line(&stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_workload_runs_without_errors_and_the_books_still_balance() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let site = Site {
        data_dir: dir.path().to_owned(),
        database_url: None,
    };
    site.create_user("bench", "teller")?;
    site.create_user("auditor", "auditor")?;
    // `Site` raises the rate limit out of the way, as for any benchmark.
    let server = site.serve()?;

    let mut batch_requests = 0;
    for workload in WORKLOADS {
        let report = bench(&site, &server.url, workload)?;
        let keys: Vec<&str> = report
            .as_object()
            .context("an object")?
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "connections",
                "duration_s",
                "errors",
                "latency_ms",
                "requests",
                "throughput_per_s",
                "workload"
            ],
            "{report}"
        );
        assert_eq!(report["workload"], workload);
        assert_eq!(report["connections"], 4);
        let duration = report["duration_s"].as_f64().context("duration_s")?;
        assert!((2.0..30.0).contains(&duration), "{report}");
        let requests = report["requests"].as_u64().context("requests")?;
        assert!(requests > 0, "{report}");
        assert_eq!(report["errors"], serde_json::json!({}), "{report}");
        for p in ["p50", "p90", "p99", "p999"] {
            assert!(report["latency_ms"][p].as_f64().is_some(), "{report}");
        }
        let (p50, p999) = (&report["latency_ms"]["p50"], &report["latency_ms"]["p999"]);
        assert!(p50.as_f64() <= p999.as_f64(), "{report}");
        let throughput = report["throughput_per_s"].as_f64().context("throughput")?;
        #[allow(clippy::cast_precision_loss)]
        let per_request = throughput * duration / requests as f64;
        if workload == "batch" {
            batch_requests = requests;
            // Transfers, not requests: 1 000 per request.
            assert!((per_request - 1000.0).abs() < 1.0, "{report}");
        } else {
            assert!((per_request - 1.0).abs() < 0.01, "{report}");
        }
    }

    // Every batch request booked its 1 000 transfers (the other workloads add their own
    // transfers, so this is a lower bound).
    let (balances, transfers) = ledger_facts(&site, "TRANSFER").await?;
    assert!(
        transfers >= i64::try_from(batch_requests * 1000)?,
        "{transfers} transfers for {batch_requests} batches"
    );
    // Money stayed exact under load: each balance is the sum of its postings, and the trial
    // balance is zero.
    for (balance, postings) in balances {
        assert_eq!(balance, postings);
    }
    let auditor = Api::login(&server.url, "auditor", STAFF_PASSWORD).await?;
    let (status, trial) = auditor.get("/v1/audit/trial-balance").await?;
    assert_eq!(status, 200, "{trial}");
    let items = trial["items"].as_array().context("items")?;
    assert!(!items.is_empty(), "{trial}");
    for item in items {
        let total = item["total"]["amount"].as_str().context("total")?;
        assert!(total.trim_matches(['0', '.']).is_empty(), "{trial}");
        if item["currency"] == "EUR" {
            // Transfers move money between the benchmark's accounts, never out of them: each
            // run's 20 accounts still hold their 1 000 000.00 EUR deposits in total.
            let accounts = WORKLOADS.len() * 20;
            assert_eq!(
                item["customer_accounts_total"]["amount"],
                format!("{accounts}000000.00"),
                "{trial}"
            );
        }
    }
    let (ok, out, err) = site.run(&["audit", "verify"])?;
    assert!(ok, "audit verify: {out} {err}");
    Ok(())
}
