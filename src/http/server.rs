//! Accepting connections and serving the router on them over HTTP/1.1
//! (WebSocket upgrades included; TLS and HTTP/2 end at the proxy in front),
//! with the limits
//! that keep a few misbehaving clients from taking the server down:
//!
//! - a client has [`ConnectionLimits::header_read_timeout`] to send a
//!   request's headers, which is also how long a kept-alive connection may
//!   sit idle before its next request (slowloris, silent sockets);
//! - the GraphQL handler gives a request's body its own deadline
//!   (`body_read_timeout`), so a trickled body is cut off;
//! - connections are capped in all and per client address (a WebSocket
//!   keeps its place for as long as it is open), and one over a cap is
//!   answered `503` at once and closed, instead of the process running out
//!   of file descriptors while `/healthz` times out;
//! - on shutdown, open connections are asked to finish and given
//!   `shutdown_drain` to do so; whatever is still open then is closed, so a
//!   stuck client cannot keep the process (and its queued audit rows) from
//!   stopping.

use std::{
    collections::HashMap,
    io,
    net::IpAddr,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo};
use http::Request;
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinSet,
};
use tower::ServiceExt as _;

use crate::config::ConnectionLimits;

/// What a connection over a cap is told before it is closed.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"errors\":[{\"message\":\"too many open connections; retry shortly\",\"extensions\":{\"code\":\"INTERNAL\"}}]}";

/// Open connections, in all and per client address.
struct Occupancy {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// The connection caps in force and who holds a place under them.
#[derive(Clone)]
struct Caps {
    max_total: usize,
    /// `None` behind a trusted proxy: every connection comes from it.
    max_per_ip: Option<usize>,
    occupancy: Arc<Mutex<Occupancy>>,
}

/// A connection's place under the caps, given back when it is dropped.
struct Place {
    ip: IpAddr,
    caps: Caps,
}

impl Caps {
    fn admit(&self, ip: IpAddr) -> Option<Place> {
        let mut occupancy = self
            .occupancy
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let from_ip = occupancy.per_ip.get(&ip).copied().unwrap_or(0);
        if occupancy.total >= self.max_total || self.max_per_ip.is_some_and(|max| from_ip >= max) {
            return None;
        }
        occupancy.total += 1;
        occupancy.per_ip.insert(ip, from_ip + 1);
        Some(Place {
            ip,
            caps: self.clone(),
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut occupancy = self
            .caps
            .occupancy
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        occupancy.total = occupancy.total.saturating_sub(1);
        if let Some(count) = occupancy.per_ip.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                occupancy.per_ip.remove(&self.ip);
            }
        }
    }
}

/// A connection's socket with its place under the caps: the place is given
/// back when the socket closes, also after a WebSocket upgrade, whose
/// socket outlives hyper's connection.
struct HeldStream {
    stream: TcpStream,
    _place: Place,
}

impl AsyncRead for HeldStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for HeldStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Raises this process's open-file limit to its hard limit where the
/// system allows, logs it, and returns the soft limit now in force (`None`
/// where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::info!(open_files = limit, "open-file limit");
            Some(limit)
        }
        Err(error) => {
            tracing::warn!(%error, "could not read or raise the open-file limit");
            None
        }
    }
}

/// The total connection cap: the configured one, lowered to leave room for
/// the database pool, logs and the like under the open-file limit.
pub fn connection_cap(configured: usize, open_files: Option<u64>, reserved: usize) -> usize {
    let room = open_files
        .and_then(|limit| usize::try_from(limit).ok())
        .map_or(usize::MAX, |limit| limit.saturating_sub(reserved));
    configured.min(room).max(1)
}

/// Serves `router` on `listener` until `shutdown` completes, then drains
/// the open connections for at most the configured time. A failed accept
/// (out of descriptors, a reset) is logged and retried, never fatal.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionLimits,
    max_total: usize,
    per_ip_applies: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let caps = Caps {
        max_total,
        max_per_ip: per_ip_applies.then_some(limits.max_connections_per_ip),
        occupancy: Arc::new(Mutex::new(Occupancy {
            total: 0,
            per_ip: HashMap::new(),
        })),
    };
    let mut http1 = http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .keep_alive(true);
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a connection reset before it
                    // was accepted: back off briefly instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let Some(place) = caps.admit(peer.ip()) else {
            // Answered without a task or a read: the descriptor is free
            // again as soon as this returns.
            let _ = stream.try_write(OVER_CAPACITY);
            tracing::warn!(peer = %peer.ip(), "connection refused: over the connection cap");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let held = HeldStream {
            stream,
            _place: place,
        };
        let connection = http1
            .serve_connection(TokioIo::new(held), TowerToHyperService::new(service))
            .with_upgrades();
        let mut closed = closed.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let outcome = tokio::select! {
                outcome = connection.as_mut() => outcome,
                () = async { let _ = closed.wait_for(|closed| *closed).await; } => {
                    // Finish the request in flight, take no more.
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(error) = outcome {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    while connections.try_join_next().is_some() {}
    if !connections.is_empty() {
        tracing::info!(
            open = connections.len(),
            "waiting for open connections to finish"
        );
    }
    let drained = tokio::time::timeout(limits.shutdown_drain(), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            still_open = connections.len(),
            drain_secs = limits.shutdown_drain().as_secs(),
            "connections still open after the drain; closing them"
        );
        connections.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(total: usize, per_ip: Option<usize>) -> Caps {
        Caps {
            max_total: total,
            max_per_ip: per_ip,
            occupancy: Arc::new(Mutex::new(Occupancy {
                total: 0,
                per_ip: HashMap::new(),
            })),
        }
    }

    #[test]
    fn places_are_capped_per_address_and_in_all_and_given_back() {
        let caps = caps(3, Some(2));
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        let a = caps.admit(one).unwrap();
        let _b = caps.admit(one).unwrap();
        assert!(caps.admit(one).is_none(), "per address");
        let _c = caps.admit(two).unwrap();
        assert!(caps.admit(two).is_none(), "in all");
        drop(a);
        assert!(
            caps.admit(two).is_some(),
            "a closed connection frees its place"
        );
    }

    #[test]
    fn behind_a_proxy_only_the_total_applies() {
        let caps = caps(3, None);
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let places: Vec<_> = (0..3).filter_map(|_| caps.admit(proxy)).collect();
        assert_eq!(places.len(), 3);
        assert!(caps.admit(proxy).is_none());
    }

    #[test]
    fn the_cap_leaves_room_under_the_open_file_limit() {
        assert_eq!(connection_cap(4096, Some(1024), 128), 896);
        assert_eq!(connection_cap(4096, Some(1_048_576), 128), 4096);
        assert_eq!(connection_cap(4096, None, 128), 4096);
        assert_eq!(connection_cap(4096, Some(10), 128), 1);
    }

    #[test]
    fn the_over_capacity_answer_is_well_formed() {
        let text = std::str::from_utf8(OVER_CAPACITY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["errors"][0]["extensions"]["code"], "INTERNAL");
    }
}
