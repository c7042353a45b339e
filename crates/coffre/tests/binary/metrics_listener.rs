//! `COFFRE_METRICS_LISTEN`: `/metrics` moves to a listener of its own and leaves the API's;
//! unset, it stays on the API's address (the laptop setup).

use std::path::PathBuf;

use crate::support::Site;

fn site(data_dir: &tempfile::TempDir) -> Site {
    Site {
        data_dir: PathBuf::from(data_dir.path()),
        database_url: None,
    }
}

async fn get(url: &str) -> anyhow::Result<(u16, String, String)> {
    let response = reqwest::get(url).await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, content_type, response.text().await?))
}

#[tokio::test]
async fn metrics_move_to_their_own_listener_when_it_is_set() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    // A free port: bound, read, released for the server.
    let metrics_address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let server = site(&data_dir)
        .serve_with_env(&[("COFFRE_METRICS_LISTEN", &metrics_address.to_string())])?;
    let (status, _, _) = get(&format!("{}/metrics", server.url)).await?;
    assert_eq!(status, 404, "/metrics is still on the API's address");
    // The API's traffic is what the metrics count.
    let (status, _, _) = get(&format!("{}/health/ready", server.url)).await?;
    assert_eq!(status, 200);
    let (status, content_type, body) = get(&format!("http://{metrics_address}/metrics")).await?;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(body.contains("# TYPE"), "not Prometheus text: {body}");
    let (status, _, _) = get(&format!("http://{metrics_address}/health/live")).await?;
    assert_eq!(status, 200);
    let (status, _, _) = get(&format!("http://{metrics_address}/v1/accounts")).await?;
    assert_eq!(status, 404, "the API is not on the metrics listener");
    Ok(())
}

#[tokio::test]
async fn without_it_metrics_stay_on_the_api_address() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let server = site(&data_dir).serve()?;
    let (status, content_type, _) = get(&format!("{}/metrics", server.url)).await?;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    Ok(())
}
