//! Graceful shutdown: a request in flight when the stop comes still gets its answer.

use std::sync::Arc;
use std::time::Duration;

use hotline::clock::SystemClock;
use hotline::server::{ServeOptions, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn in_flight_requests_finish_before_the_server_stops() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(ServeOptions {
        data: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        plain_http: true,
        clock: Arc::new(SystemClock),
        search: true,
        limits: hotline::http::server::Limits::default(),
    })
    .await
    .unwrap();
    let addr = running.addr;
    let body = r#"{"username": "nobody", "password": "not-a-password"}"#;
    let (first, rest) = body.split_at(20);
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Stop while the request is half sent.
    let stopping = tokio::spawn(running.shutdown());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !stopping.is_finished(),
        "the server must wait for the request in flight"
    );
    // New connections are no longer accepted.
    assert!(TcpStream::connect(addr).await.is_err());

    conn.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("invalid_credentials"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown completes once the request is answered")
        .unwrap();
    // The database is closed and opens again.
    drop(hotline::store::Store::open(dir.path()).unwrap());
}
