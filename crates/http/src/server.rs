//! The accept loop. Coffre runs its own rather than `axum::serve`, which sets no limit on a
//! connection: a client sending one header line every few seconds, or nothing at all, held a
//! connection (and its task) open for as long as it liked, and connections were unbounded.
//!
//! - A request head must arrive whole within [`ConnectionSettings::header_read_timeout`].
//!   hyper starts that clock whenever it waits for a head: on a new connection and between
//!   requests of a kept-alive one, so the same bound closes idle connections.
//! - At most [`ConnectionSettings::max_connections`] connections are served at once; the next
//!   ones wait in the kernel's accept queue until one closes.
//! - On shutdown, no new connection is accepted, idle ones are closed and in-flight requests
//!   finish (the caller bounds how long).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt as _;

/// Limits on the connections themselves, before any request is routed.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// The time a client has to send a whole request head, from the moment the server waits
    /// for one (a new connection, or the end of the previous response).
    pub header_read_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
}

impl Default for ConnectionSettings {
    /// A bank's edge: 10 s for a request head, 1 024 connections (see ADR 0017).
    fn default() -> Self {
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// Serves `router` on `listener` within `settings` until `shutdown` completes, then closes
/// idle connections and waits for in-flight requests.
pub async fn serve_with(
    mut listener: TcpListener,
    router: Router,
    settings: ConnectionSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (slot, stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&mut listener, &slots) => accepted,
        };
        let service = router
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                // What `into_make_service_with_connect_info` would insert: the TCP peer.
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, peer = %peer, "connection closed on an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Waits for a free slot, then for a connection. Past the cap, nothing is accepted: clients
/// wait in the kernel's queue rather than holding a task and a socket here.
async fn accept(
    listener: &mut TcpListener,
    slots: &Arc<Semaphore>,
) -> (OwnedSemaphorePermit, TcpStream, SocketAddr) {
    let Ok(slot) = Arc::clone(slots).acquire_owned().await else {
        // The semaphore is never closed; were it, accept nothing more.
        return std::future::pending().await;
    };
    // axum's listener retries on per-connection errors and backs off when out of descriptors.
    let (stream, peer) = listener.accept().await;
    (slot, stream, peer)
}
