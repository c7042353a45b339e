//! The serve loop's limits on connections themselves: a request head sent too slowly, an idle
//! connection, and more connections than the cap. These run on a bare router: no route, no
//! storage is involved before a request head has arrived.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use coffre_http::ConnectionSettings;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Far longer than any limit a test sets: a connection still open after it was not closed.
const PATIENCE: Duration = Duration::from_secs(20);

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: coffre.test\r\n\r\n";

/// Serves a one-route router within `settings`; returns its address.
async fn serve(settings: ConnectionSettings) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = Router::new().route("/", get(|| async { "ok" }));
    tokio::spawn(coffre_http::serve_with(
        listener,
        router,
        settings,
        std::future::pending(),
    ));
    Ok(address)
}

/// Reads until the server closes the connection; fails if it has not within [`PATIENCE`].
async fn closed_by_server(stream: &mut TcpStream) -> anyhow::Result<()> {
    let mut sink = Vec::new();
    match tokio::time::timeout(PATIENCE, stream.read_to_end(&mut sink)).await {
        Ok(_) => Ok(()), // EOF or reset: closed
        Err(_) => anyhow::bail!("the connection is still open after {PATIENCE:?}"),
    }
}

/// Reads one whole `ok` response.
async fn read_ok(stream: &mut TcpStream) -> anyhow::Result<()> {
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !answer.ends_with(b"\r\n\r\nok") {
        let read = stream.read(&mut buffer).await?;
        anyhow::ensure!(read > 0, "closed before the answer");
        answer.extend_from_slice(&buffer[..read]);
    }
    anyhow::ensure!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    Ok(())
}

#[tokio::test]
async fn a_request_head_sent_too_slowly_is_cut() -> anyhow::Result<()> {
    let address = serve(ConnectionSettings {
        header_read_timeout: Duration::from_millis(300),
        ..ConnectionSettings::default()
    })
    .await?;
    let mut slow = TcpStream::connect(address).await?;
    // One header line, then nothing: the head never ends.
    slow.write_all(b"GET / HTTP/1.1\r\nHost: coffre.test\r\n")
        .await?;
    closed_by_server(&mut slow).await
}

#[tokio::test]
async fn an_idle_connection_is_closed() -> anyhow::Result<()> {
    let address = serve(ConnectionSettings {
        header_read_timeout: Duration::from_millis(300),
        ..ConnectionSettings::default()
    })
    .await?;
    let mut silent = TcpStream::connect(address).await?;
    closed_by_server(&mut silent).await?;
    // Kept alive after an answer, then silent: closed too.
    let mut kept_alive = TcpStream::connect(address).await?;
    kept_alive.write_all(REQUEST).await?;
    read_ok(&mut kept_alive).await?;
    closed_by_server(&mut kept_alive).await
}

#[tokio::test]
async fn past_the_cap_a_connection_waits_for_a_free_slot() -> anyhow::Result<()> {
    let address = serve(ConnectionSettings {
        header_read_timeout: Duration::from_secs(60),
        max_connections: 1,
    })
    .await?;
    let mut first = TcpStream::connect(address).await?;
    first.write_all(REQUEST).await?;
    read_ok(&mut first).await?;
    // The kernel completes the handshake, but the server does not take the connection.
    let mut second = TcpStream::connect(address).await?;
    second.write_all(REQUEST).await?;
    let waiting = tokio::time::timeout(Duration::from_millis(500), read_ok(&mut second)).await;
    assert!(waiting.is_err(), "served past the cap: {waiting:?}");
    drop(first);
    tokio::time::timeout(PATIENCE, read_ok(&mut second)).await??;
    Ok(())
}
