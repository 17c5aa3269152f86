//! Issue 8, point 6: slow and idle clients are cut off, and 1,000 of them at once do not
//! keep a normal client from the box. Real TLS connections on loopback, from several
//! loopback addresses, with the server's bounds shortened so the test stays short.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::domain::role::Role;
use hotline::http::server::Limits;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::TestApp;

fn limits() -> Limits {
    Limits {
        max_connections: 0,
        per_address: 250,
        tls_handshake: Duration::from_secs(2),
        header_read: Duration::from_secs(2),
        request: Duration::from_secs(3),
        idle: Duration::from_secs(2),
    }
}

async fn tcp_from(app: &TestApp, n: u8) -> std::io::Result<TcpStream> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(std::net::SocketAddr::from(([127, 0, 0, n], 0)))?;
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    sock.connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
}

fn connector(app: &TestApp, alpn: &[u8]) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&app.ca_pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![alpn.to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

async fn tls_from(app: &TestApp, n: u8, alpn: &[u8]) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = tcp_from(app, n).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector(app, alpn).connect(name, tcp).await.unwrap()
}

/// Reads until the server closes; the bytes read. Fails if it stays open past `within`.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(s: &mut S, within: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + within;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the server kept the connection open; it sent {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off() {
    let app = TestApp::start_with(tempfile::tempdir().unwrap(), limits()).await;
    let admin = app.admin().await;
    let op = app.user(&admin, "op1", Role::Operator).await;
    let r = op
        .post(
            "/api/v1/orders",
            crate::orders::order_body("13900001111", "路灯不亮"),
        )
        .await;
    let order = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();

    // A request head that never ends: closed after the head timeout.
    let mut s = tls_from(&app, 1, b"http/1.1").await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    closed_within(&mut s, Duration::from_secs(6)).await;

    // An idle HTTP/1.1 keep-alive connection: closed after the idle time.
    let mut s = tls_from(&app, 1, b"http/1.1").await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let got = closed_within(&mut s, Duration::from_secs(6)).await;
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));

    // A body sent a byte at a time: 408 when the request time is up, then closed.
    let mut s = tls_from(&app, 1, b"http/1.1").await;
    s.write_all(
        b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await
    .unwrap();
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if s.write_all(b" ").await.is_err() {
                break;
            }
            let mut b = [0u8; 1024];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), s.read(&mut b)).await
            {
                return String::from_utf8_lossy(&b[..n]).to_string();
            }
        }
        String::new()
    };
    let answer = tokio::time::timeout(Duration::from_secs(8), trickle)
        .await
        .expect("a trickled body must be cut off");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );

    // An idle HTTP/2 connection: the server says goodbye after the idle time.
    let tls = tls_from(&app, 1, b"h2").await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut h2, conn) = h2::client::handshake(tls).await.unwrap();
    let driver = tokio::spawn(conn);
    let req = axum::http::Request::get(app.url("/healthz"))
        .body(())
        .unwrap();
    let (resp, _) = h2.send_request(req, true).unwrap();
    assert_eq!(resp.await.unwrap().status(), StatusCode::OK);
    tokio::time::timeout(Duration::from_secs(6), driver)
        .await
        .expect("the idle HTTP/2 connection must be closed")
        .unwrap()
        .ok();

    // 1,000 slow connections at once, from five addresses: half stuck in the TLS handshake,
    // half sending their request a byte at a time.
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .maximum
        .unwrap_or(u64::MAX);
    let slow_n: usize = if hard >= 3000 {
        1000
    } else {
        ((hard - 600) / 2) as usize
    };
    assert!(
        slow_n >= 1000 || std::env::var_os("CI").is_none(),
        "descriptor limit {hard} too low"
    );
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut held = Vec::new();
    for i in 0..slow_n {
        let n = 2 + (i % 5) as u8;
        let tcp = tcp_from(&app, n).await.unwrap();
        let stop = stop.clone();
        let tls_app_ca = if i % 2 == 0 {
            None
        } else {
            Some(connector(&app, b"http/1.1"))
        };
        held.push(tokio::spawn(async move {
            let slow = async move {
                match tls_app_ca {
                    None => {
                        // A ClientHello that never finishes.
                        let mut tcp = tcp;
                        for b in [0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01].iter().cycle() {
                            if tcp.write_all(&[*b]).await.is_err() {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                    Some(c) => {
                        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
                        let Ok(mut s) = c.connect(name, tcp).await else {
                            return;
                        };
                        for b in b"GET / HTTP/1.1\r\nHost: slowloris\r\nX-Slow: "
                            .iter()
                            .cycle()
                        {
                            if s.write_all(&[*b]).await.is_err() {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                }
            };
            tokio::select! {
                () = slow => {}
                () = stop.notified() => {}
            }
        }));
    }
    // While they hold on, a normal client gets its answers in well under a second.
    let normal = app.client_at(1);
    let session = app.login("op1", crate::helpers::NEW_PASSWORD).await;
    for _ in 0..5 {
        let t = Instant::now();
        let r = normal.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = session.get(&format!("/orders/{order}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let took = t.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "healthz + order page took {took:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // And the slow ones are being cut off by the server, not left to pile up.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let ended = held.iter().filter(|h| h.is_finished()).count();
    assert!(
        ended * 10 >= slow_n * 9,
        "only {ended} of {slow_n} slow connections were cut off"
    );
    stop.notify_waiters();
    for h in held {
        let _ = h.await;
    }

    // One address may not hold more than its share of connections.
    let mut conns = Vec::new();
    for _ in 0..260 {
        conns.push(tcp_from(&app, 9).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = 0;
    for c in &mut conns {
        let mut b = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(20), c.read(&mut b)).await {
            refused += 1;
        }
    }
    assert!(
        refused >= 10,
        "{refused} of 260 connections from one address were refused"
    );
    drop(conns);
    // Once they are gone, that address is served again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = app
        .client_at(9)
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
