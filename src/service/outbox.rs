//! Results back to the platforms (回传): each change a platform needs is queued in the same
//! transaction as the change (`queue_changes`), and a worker delivers the queue — signed
//! (HMAC-SHA256), with the same idempotency key on every try, one order's results in the
//! order they happened, retried with backoff across restarts until the platform takes it.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Actor, App};
use crate::domain::order::{Channel, Order, Satisfaction};
use crate::domain::order_state::{Action, State};
use crate::domain::outbox::{
    Delivery, DeliveryState, GIVE_UP_AFTER, OutEvent, retry_after_secs, signature,
};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::store::{WriteTx, audit, outbox};

/// Where a callback URL points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, `/` at least.
    pub path: String,
}

impl Target {
    /// `http(s)://host[:port][/path]`; no user info, no fragment, no spaces.
    pub fn parse(url: &str) -> Option<Target> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return None;
        };
        if url.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'#') {
            return None;
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = if let Some(h) = authority.strip_prefix('[') {
            let (h, after) = h.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => default_port(tls),
                None => return None,
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().ok()?),
                None => (authority.to_string(), default_port(tls)),
            }
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
            || port == 0
        {
            return None;
        }
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        Some(Target {
            tls,
            host,
            port,
            path,
        })
    }
}

fn default_port(tls: bool) -> u16 {
    if tls { 443 } else { 80 }
}

/// What changed that the platform is told, by comparing the order before and after.
fn events_of(old: &Order, new: &Order, action: Action) -> Vec<OutEvent> {
    let mut out = Vec::new();
    let screened = old.state == State::Registered
        && old.rounds.is_empty()
        && old.closure.is_none()
        && matches!(action, Action::Answer | Action::Dispatch)
        && matches!(new.state, State::Dispatched | State::Closed);
    if screened {
        out.push(OutEvent::Accepted);
    }
    if new.state == State::Rejected && old.state != State::Rejected {
        out.push(OutEvent::Rejected);
    }
    if new.state == State::Closed && old.state != State::Closed {
        out.push(OutEvent::Finished);
    }
    if action == Action::Callback
        && new.callbacks.len() > old.callbacks.len()
        && new
            .callbacks
            .last()
            .is_some_and(|c| c.satisfaction != Satisfaction::Unreachable)
    {
        out.push(OutEvent::CallbackResult);
    }
    out
}

/// The body a platform receives: the order by its number, 查询码 and the platform's own id,
/// and what happened — never the caller's data or the centre's internal notes.
fn body_of(o: &Order, event: OutEvent, key: &str, now: Timestamp) -> String {
    let mut b = json!({
        "event": event.code(),
        "event_label": event.label(),
        "idempotency_key": key,
        "occurred_at": now.rfc3339_cst(),
        "order": {
            "number": o.number,
            "query_code": o.query_code,
            "external_id": o.external_id,
            "channel": o.channel.code(),
            "state": o.state.code(),
            "state_label": o.state.label(),
        },
    });
    match event {
        OutEvent::Accepted => {
            if let Some(r) = o.current_round() {
                b["handle_due"] = json!(r.handle.map(|h| h.due.rfc3339_cst()));
            }
        }
        OutEvent::Rejected => {
            b["reason"] = json!({
                "code": o.reject_code,
                "label": o.reject_code.map(crate::domain::exclusion::label),
                "told": o.reject_told,
            });
        }
        OutEvent::Finished => {
            b["public_reply"] = json!(super::orders::platform::public_reply(o));
            b["closed_at"] = json!(o.closed_at.map(|t| t.rfc3339_cst()));
        }
        OutEvent::CallbackResult => {
            if let Some(c) = o.callbacks.last() {
                b["satisfaction"] =
                    json!({"code": c.satisfaction, "label": c.satisfaction.label()});
                b["resolved"] = json!(c.resolved);
            }
        }
    }
    b.to_string()
}

/// Queues, in the caller's transaction, what the platform an order came from must be told of
/// this change (nothing for phone orders or a platform without a callback URL).
pub fn queue_changes(
    tx: &WriteTx,
    old: &Order,
    new: &Order,
    action: Action,
    now: Timestamp,
) -> Result<usize, AppError> {
    if new.channel == Channel::Phone {
        return Ok(0);
    }
    let events = events_of(old, new, action);
    if events.is_empty() {
        return Ok(0);
    }
    let Some((token, _, _)) = super::tokens::callback_for(tx, new.channel)? else {
        return Ok(0);
    };
    for event in &events {
        let key = format!("{}:{}:{}", new.number, event.code(), new.timeline.len());
        let d = Delivery {
            id: outbox::next_id(tx)?,
            order: new.id,
            number: new.number.clone(),
            token,
            event: *event,
            body: body_of(new, *event, &key, now),
            key,
            state: DeliveryState::Pending,
            attempts: 0,
            next_at: now,
            created_at: now,
            delivered_at: None,
            last_error: None,
        };
        outbox::put(tx, None, &d)?;
    }
    Ok(events.len())
}

/// A delivery as the admin sees it.
#[derive(Serialize)]
pub struct DeliveryView {
    pub id: u64,
    pub order: u64,
    pub number: String,
    pub event: OutEvent,
    pub event_label: &'static str,
    pub state: DeliveryState,
    pub state_label: &'static str,
    pub attempts: u32,
    pub key: String,
    pub created_at: String,
    pub next_at: Option<String>,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

fn view(d: &Delivery) -> DeliveryView {
    DeliveryView {
        id: d.id,
        order: d.order.0,
        number: d.number.clone(),
        event: d.event,
        event_label: d.event.label(),
        state: d.state,
        state_label: d.state.label(),
        attempts: d.attempts,
        key: d.key.clone(),
        created_at: d.created_at.rfc3339_cst(),
        next_at: (d.state != DeliveryState::Delivered).then(|| d.next_at.rfc3339_cst()),
        delivered_at: d.delivered_at.map(|t| t.rfc3339_cst()),
        last_error: d.last_error.clone(),
    }
}

#[derive(Serialize)]
pub struct OutboxPage {
    pub pending: Vec<DeliveryView>,
    pub pending_total: usize,
    pub failed: Vec<DeliveryView>,
    pub failed_total: usize,
    pub delivered: Vec<DeliveryView>,
}

/// Rows a list shows, and counted at most.
const LIST_ROWS: usize = 100;
const COUNT_CAP: usize = 10_000;

/// The admin's view: pending and failed deliveries (and the last ones delivered).
pub fn overview(app: &App, actor: &Actor) -> Result<OutboxPage, AppError> {
    actor.require(Permission::SettingsManage)?;
    app.store.read(|tx| {
        let load = |ids: Vec<u64>| -> Result<Vec<DeliveryView>, AppError> {
            let mut v = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(d) = outbox::get(tx, id)? {
                    v.push(view(&d));
                }
            }
            Ok(v)
        };
        let (p, pending_total) =
            outbox::in_state(tx, DeliveryState::Pending, LIST_ROWS, COUNT_CAP)?;
        let (f, failed_total) = outbox::in_state(tx, DeliveryState::Failed, LIST_ROWS, COUNT_CAP)?;
        let (d, _) = outbox::in_state(tx, DeliveryState::Delivered, 20, 20)?;
        Ok(OutboxPage {
            pending: load(p)?,
            pending_total,
            failed: load(f)?,
            failed_total,
            delivered: load(d)?,
        })
    })
}

/// How many deliveries have failed (for the admin's home), counted up to 10,000.
pub fn failed_count(app: &App) -> Result<usize, AppError> {
    Ok(app
        .store
        .read(|tx| outbox::in_state(tx, DeliveryState::Failed, 0, COUNT_CAP))?
        .1)
}

/// Sends a pending or failed delivery at once (the admin's 重新发送).
pub fn retry(app: &App, actor: &Actor, id: u64) -> Result<DeliveryView, AppError> {
    actor.require(Permission::SettingsManage)?;
    let now = app.now();
    let v = app.store.write(|tx| -> Result<DeliveryView, AppError> {
        let old = outbox::get(tx, id)?.ok_or(AppError::NotFound)?;
        if old.state == DeliveryState::Delivered {
            return Err(AppError::conflict("delivered", "该回传已送达，无需重发"));
        }
        let mut d = old.clone();
        d.next_at = now;
        outbox::put(tx, Some(&old), &d)?;
        audit::append(
            tx,
            now,
            actor.event(
                "outbox.retry",
                Some(format!("delivery:{id}")),
                format!("重新发送 {} 的{}回传", d.number, d.event.label()),
            ),
        )?;
        Ok(view(&d))
    })?;
    app.outbox_wake.notify_one();
    Ok(v)
}

/// Deliveries one pass of the worker takes on.
const PASS: usize = 16;

/// The worker: delivers what is due whenever something is queued or retried, and at least
/// once a second; ends at shutdown.
pub async fn run(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = app.outbox_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        loop {
            let a = app.clone();
            let due = tokio::task::spawn_blocking(move || due_now(&a))
                .await
                .unwrap_or_else(|e| Err(AppError::Internal(e.to_string())));
            let due = match due {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: reading the queue failed");
                    break;
                }
            };
            if due.is_empty() {
                break;
            }
            let n = due.len();
            if *stop.borrow() {
                return;
            }
            let timeout =
                Duration::from_secs(u64::from(app.settings().callback_timeout_secs.clamp(1, 60)));
            // One pass's deliveries go at once (each the first of its order's line): a
            // platform that hangs holds up the others for one timeout, not one each.
            let tries = due.into_iter().map(|(d, target)| {
                let app = app.clone();
                async move {
                    let outcome = match target {
                        Some((url, secret)) => send(&app, &d, &url, &secret, timeout).await,
                        None => Err("平台令牌已吊销或未设回传地址".to_string()),
                    };
                    let a = app.clone();
                    let saved =
                        tokio::task::spawn_blocking(move || record(&a, d.id, outcome)).await;
                    if let Ok(Err(e)) = saved {
                        tracing::warn!(error = %e, "outbox: recording a try failed");
                    }
                }
            });
            futures_util::future::join_all(tries).await;
            if n < PASS {
                break;
            }
        }
    }
}

/// The deliveries due now that are first in their order's line, with where they go.
#[allow(clippy::type_complexity)]
fn due_now(app: &App) -> Result<Vec<(Delivery, Option<(String, String)>)>, AppError> {
    let now = app.now();
    app.store.read(|tx| {
        let mut out = Vec::new();
        for id in outbox::due(tx, now, PASS * 4)? {
            let Some(d) = outbox::get(tx, id)? else {
                continue;
            };
            // An order's results go in the order they happened: a later one waits.
            if outbox::first_open(tx, d.order)? != Some(d.id) {
                continue;
            }
            let target = super::tokens::callback_of(tx, d.token)?;
            out.push((d, target));
            if out.len() >= PASS {
                break;
            }
        }
        Ok(out)
    })
}

/// Stores how a try went: delivered, or the next try's time.
fn record(app: &App, id: u64, outcome: Result<(), String>) -> Result<(), AppError> {
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        let Some(old) = outbox::get(tx, id)? else {
            return Ok(());
        };
        if old.state == DeliveryState::Delivered {
            return Ok(());
        }
        let mut d = old.clone();
        d.attempts = d.attempts.saturating_add(1);
        match outcome {
            Ok(()) => {
                d.state = DeliveryState::Delivered;
                d.delivered_at = Some(now);
                d.last_error = None;
            }
            Err(e) => {
                d.last_error = Some(e.chars().take(200).collect());
                d.next_at = Timestamp(now.0 + retry_after_secs(d.attempts) * 1000);
                if d.attempts >= GIVE_UP_AFTER {
                    d.state = DeliveryState::Failed;
                }
            }
        }
        outbox::put(tx, Some(&old), &d)?;
        Ok(())
    })
}

/// One try: POST the body; any 2xx is delivered.
async fn send(
    app: &App,
    d: &Delivery,
    url: &str,
    secret: &str,
    timeout: Duration,
) -> Result<(), String> {
    let target = Target::parse(url).ok_or("回传地址无效")?;
    let at = app.now().secs();
    let host = if target.port == default_port(target.tls) {
        target.host.clone()
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: hotline/{}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nIdempotency-Key: {}\r\nX-Hotline-Event: {}\r\nX-Hotline-Signature: {}\r\nConnection: close\r\n\r\n",
        target.path,
        env!("CARGO_PKG_VERSION"),
        d.body.len(),
        d.key,
        d.event.code(),
        signature(secret, at, &d.body),
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(d.body.as_bytes());
    let data_dir = app.data_dir.clone();
    let exchange = async move {
        let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("连接失败：{e}"))?;
        if target.tls {
            let connector = tls_connector(&data_dir).map_err(|e| format!("TLS 配置：{e}"))?;
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|_| "主机名无效".to_string())?;
            let mut s = connector
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS 握手失败：{e}"))?;
            exchange_on(&mut s, &request).await
        } else {
            let mut s = tcp;
            exchange_on(&mut s, &request).await
        }
    };
    let status = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{} 秒内无应答", timeout.as_secs()))??;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("平台应答 HTTP {status}"))
    }
}

/// Writes the request and reads the status code of the answer.
async fn exchange_on<S>(s: &mut S, request: &[u8]) -> Result<u16, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    s.write_all(request)
        .await
        .map_err(|e| format!("发送失败：{e}"))?;
    s.flush().await.map_err(|e| format!("发送失败：{e}"))?;
    let mut buf = vec![0u8; 256];
    let mut got = 0;
    while got < 12 {
        let n = s
            .read(&mut buf[got..])
            .await
            .map_err(|e| format!("读取应答失败：{e}"))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let line = String::from_utf8_lossy(&buf[..got]);
    let mut parts = line.split_whitespace();
    match (
        parts.next(),
        parts.next().and_then(|c| c.parse::<u16>().ok()),
    ) {
        (Some(v), Some(code)) if v.starts_with("HTTP/1.") => Ok(code),
        _ => Err("平台应答不是 HTTP".into()),
    }
}

/// Trusts the system's certificate authorities, and those in `platform-ca.pem` in the data
/// directory (a provincial platform with its own CA).
fn tls_connector(data_dir: &std::path::Path) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let files = [
        data_dir.join("platform-ca.pem"),
        "/etc/ssl/certs/ca-certificates.crt".into(),
        "/etc/pki/tls/certs/ca-bundle.crt".into(),
    ];
    for f in files.iter().filter(|f| f.exists()) {
        if let Ok(certs) = CertificateDer::pem_file_iter(f) {
            for c in certs.flatten() {
                let _ = roots.add(c);
            }
        }
    }
    if roots.is_empty() {
        return Err("没有可信的证书颁发机构".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_parse_strictly() {
        let t = Target::parse("https://gov.example.cn/api/hotline/cb?x=1").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path.as_str()),
            (true, "gov.example.cn", 443, "/api/hotline/cb?x=1")
        );
        let t = Target::parse("http://127.0.0.1:8088").unwrap();
        assert_eq!((t.port, t.path.as_str()), (8088, "/"));
        let t = Target::parse("http://[::1]:9000/cb").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        for bad in [
            "",
            "ftp://x/",
            "http://",
            "http://user@host/",
            "http://host:0/",
            "http://host:99999/",
            "http://ho st/",
            "http://host/#frag",
            "https://host/\r\nX: y",
            "javascript:alert(1)",
        ] {
            assert_eq!(Target::parse(bad), None, "{bad:?}");
        }
    }
}
