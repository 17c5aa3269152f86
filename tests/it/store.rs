//! The store: the table catalogue is complete, the database closes on shutdown, and the
//! server refuses unsafe configurations.

use std::sync::Arc;

use hotline::clock::SystemClock;
use hotline::domain::role::Role;
use hotline::server::{ServeOptions, start};
use hotline::store::{Store, tables};

use crate::helpers::TestApp;

#[tokio::test]
async fn every_table_in_the_file_is_in_the_backup_catalogue() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    // Touch every kind of record.
    let _unit_user = app.user(&admin, "clerk", Role::Unit).await;
    let dir = app.stop().await;
    let store = Store::open(dir.path()).unwrap();
    let (counts, unknown) = store.table_counts().unwrap();
    assert!(
        unknown.is_empty(),
        "tables missing from tables::ALL: {unknown:?}"
    );
    for t in tables::ALL {
        assert!(
            counts.iter().any(|(n, _)| *n == t.name),
            "catalogued table {} is not in the file",
            t.name
        );
    }
    let count = |n: &str| counts.iter().find(|(x, _)| *x == n).unwrap().1;
    assert_eq!(count("users-v1"), 2);
    assert_eq!(count("units-v1"), 1);
    assert!(count("audit-v1") >= 5);
    assert_eq!(hotline::store::SCHEMA_VERSION, 7);
}

#[tokio::test]
async fn shutdown_closes_the_database_and_data_survives_a_restart() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.user(&admin, "keeper", Role::Qa).await;
    let dir = app.stop().await;
    // The lock is released: the file opens again at once.
    drop(Store::open(dir.path()).unwrap());
    let app = TestApp::start_in(dir).await;
    let s = app.login("keeper", crate::helpers::NEW_PASSWORD).await;
    assert_eq!(s.body["role"], "qa");
    // The certificate is reused, not remade.
    let again = app.running.as_ref().unwrap();
    assert!(!again.cert_created);
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let err = start(ServeOptions {
        data: dir.path().to_path_buf(),
        listen: "0.0.0.0:0".parse().unwrap(),
        plain_http: true,
        clock: Arc::new(SystemClock),
        search: true,
        limits: hotline::http::server::Limits::default(),
    })
    .await
    .err()
    .expect("plain HTTP on 0.0.0.0 must be refused");
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(!dir.path().join(hotline::store::DB_FILE).exists());
}

#[tokio::test]
async fn plain_http_works_on_loopback() {
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
    let r = reqwest::get(format!("http://{}/healthz", running.addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    running.shutdown().await;
}
