//! The connection loop: TLS (or loopback plain HTTP), HTTP/1.1 and HTTP/2, graceful shutdown,
//! and the bounds that keep slow or idle clients from holding the box: connections in all
//! and per address, the TLS handshake, request heads, whole requests (a body sent a byte at
//! a time), and idle keep-alive connections of both protocols.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::ClientIp;

/// How long in-flight requests get to finish at shutdown.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Descriptors kept free of connections: the database, logs, backups, the search index.
const RESERVED_FDS: u64 = 256;

/// The bounds on clients; defaults suit the office box, tests shorten them.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Open connections at once; 0 derives it from the descriptor limit.
    pub max_connections: usize,
    /// Open connections from one address (an office PC's browser needs a handful).
    pub per_address: usize,
    pub tls_handshake: Duration,
    /// To send a request head (HTTP/1.1), counted from the connection or the last response.
    pub header_read: Duration,
    /// For a whole request, body included, until the answer starts.
    pub request: Duration,
    /// A connection with nothing in flight is closed after this long.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 0,
            per_address: 256,
            tls_handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(20),
            request: Duration::from_secs(120),
            idle: Duration::from_secs(75),
        }
    }
}

/// Raises the soft descriptor limit to the hard one (systemd's default soft limit is 1,024)
/// and returns how many connections fit beside what the box itself needs open.
pub fn connection_budget(limits: &Limits) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut lim = getrlimit(Resource::Nofile);
    if let (Some(cur), Some(max)) = (lim.current, lim.maximum)
        && cur < max
    {
        lim.current = Some(max);
        if setrlimit(Resource::Nofile, lim).is_err() {
            lim.current = Some(cur);
        }
    }
    let soft = lim.current.unwrap_or(65_536);
    let fit = usize::try_from(soft.saturating_sub(RESERVED_FDS) / 2)
        .unwrap_or(usize::MAX)
        .clamp(16, 16_384);
    if limits.max_connections == 0 {
        fit
    } else {
        limits.max_connections.min(fit)
    }
}

/// Admission of new connections: a total and a per-address bound.
struct Gate {
    max: usize,
    per_address: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    /// Signalled whenever a connection closes (for the drain at shutdown).
    closed: Notify,
}

/// One admitted connection; dropping it frees its place.
struct Ticket {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Gate {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let mut g = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let here = g.1.get(&ip).copied().unwrap_or(0);
        if g.0 >= self.max || here >= self.per_address {
            return None;
        }
        g.0 += 1;
        g.1.insert(ip, here + 1);
        Some(Ticket {
            gate: self.clone(),
            ip,
        })
    }

    fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut g = self.gate.open.lock().unwrap_or_else(|p| p.into_inner());
        g.0 = g.0.saturating_sub(1);
        if let Some(n) = g.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                g.1.remove(&self.ip);
            }
        }
        drop(g);
        self.gate.closed.notify_waiters();
    }
}

/// What a connection is doing: requests in flight and when the last one ended.
struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        })
    }

    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Acquire));
        Some(self.epoch.elapsed().saturating_sub(last))
    }
}

/// Counts a request in flight until dropped (also when the client goes away mid-request).
struct Busy(Arc<Activity>);

impl Busy {
    fn new(a: &Arc<Activity>) -> Busy {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(a.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let ms = u64::try_from(self.0.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_ms.store(ms, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn request_timed_out() -> Response {
    let mut r = (
        StatusCode::REQUEST_TIMEOUT,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "请求发送超时，请重试",
    )
        .into_response();
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Serves until `shutdown` resolves, then stops accepting and lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, router, tls, Limits::default(), shutdown).await;
}

pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let gate = Arc::new(Gate {
        max: connection_budget(&limits),
        per_address: limits.per_address.max(1),
        open: Mutex::new((0, HashMap::new())),
        closed: Notify::new(),
    });
    tracing::info!(max_connections = gate.max, "accepting connections");
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_header_list_size(64 * 1024);
    let builder = Arc::new(builder);
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    let mut refused_logged = Instant::now() - Duration::from_secs(60);
    loop {
        let (stream, peer) = tokio::select! {
            res = listener.accept() => match res {
                Ok(x) => x,
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip = peer.ip();
        let Some(ticket) = gate.admit(ip) else {
            // Over the bound: closed at once, so it holds nothing.
            if refused_logged.elapsed() > Duration::from_secs(10) {
                tracing::warn!(
                    open = gate.open(),
                    "connection refused: too many open connections"
                );
                refused_logged = Instant::now();
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let router = router.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            let _ticket = ticket;
            match acceptor {
                Some(acceptor) => {
                    let tls =
                        match tokio::time::timeout(limits.tls_handshake, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, "tls handshake failed");
                                return;
                            }
                            Err(_) => return,
                        };
                    connection(&builder, tls, router, ip, limits, stop).await;
                }
                None => connection(&builder, stream, router, ip, limits, stop).await,
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = async {
        while gate.open() > 0 {
            let closed = gate.closed.notified();
            if gate.open() == 0 {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), closed).await;
        }
    };
    tokio::select! {
        () = drained => tracing::info!("all connections closed"),
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("shutdown drain timed out"),
    }
}

/// Serves one connection until it ends, goes idle, or the server stops.
async fn connection<I>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    router: Router,
    ip: IpAddr,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let act = activity.clone();
    let service = tower::service_fn(move |mut req: axum::http::Request<Incoming>| {
        let router = router.clone();
        let busy = Busy::new(&act);
        async move {
            req.extensions_mut().insert(ClientIp(ip));
            let answer = tokio::time::timeout(limits.request, router.oneshot(req)).await;
            drop(busy);
            Ok::<_, std::convert::Infallible>(match answer {
                Ok(Ok(resp)) => resp,
                Ok(Err(never)) => match never {},
                Err(_) => request_timed_out(),
            })
        }
    });
    let conn =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
    tokio::pin!(conn);
    let mut tick = tokio::time::interval(
        (limits.idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(5)),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing: Option<tokio::time::Instant> = None;
    loop {
        let deadline =
            closing.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tick.tick(), if closing.is_none() => {
                if activity.idle_for().is_some_and(|d| d >= limits.idle) {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(tokio::time::Instant::now() + Duration::from_secs(5));
                }
            }
            _ = stop.changed(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(tokio::time::Instant::now() + DRAIN_TIMEOUT);
            }
            () = tokio::time::sleep_until(deadline), if closing.is_some() => return,
        }
    }
}
