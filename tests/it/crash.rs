//! Nothing acknowledged is ever lost: the server is killed (SIGKILL) while sixteen clients
//! register orders as fast as they can, three times over; after each restart every order
//! that was answered `201` is there, and the index and audit chain are whole.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline::domain::role::Role;
use hotline::domain::time::Timestamp;
use hotline::store::Store;
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "Crash-test-2026";

fn spawn(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--data"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn client(dir: &std::path::Path) -> reqwest::Client {
    let ca = std::fs::read(hotline::http::tls::ca_path(dir)).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .tls_built_in_root_certs(false)
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn wait_up(dir: &std::path::Path, base: &str) {
    for _ in 0..300 {
        if hotline::http::tls::ca_path(dir).exists()
            && client(dir)
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let hash = hotline::service::password::hash(PASSWORD).unwrap();
        store
            .write(|tx| -> Result<(), hotline::store::StoreError> {
                let id = hotline::store::users::next_id(tx)?;
                hotline::store::users::put(
                    tx,
                    &hotline::domain::user::User {
                        id,
                        username: "oper".into(),
                        display_name: "话务员".into(),
                        role: Role::Operator,
                        unit: None,
                        password_hash: hash.clone(),
                        must_change_password: false,
                        disabled: false,
                        created_at: Timestamp(0),
                        password_changed_at: Timestamp(0),
                    },
                )
            })
            .unwrap();
    }
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    for round in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("https://127.0.0.1:{port}");
        let mut child = spawn(dir.path(), port);
        wait_up(dir.path(), &base).await;
        let before = acknowledged.lock().unwrap().len();
        let mut tasks = Vec::new();
        for t in 0..16 {
            let c = client(dir.path());
            let base = base.clone();
            let acknowledged = acknowledged.clone();
            tasks.push(tokio::spawn(async move {
                let r = c
                    .post(format!("{base}/api/v1/session"))
                    .json(&json!({"username": "oper", "password": PASSWORD}))
                    .send()
                    .await;
                let Ok(r) = r else { return };
                let Ok(v) = r.json::<serde_json::Value>().await else {
                    return;
                };
                let csrf = v["csrf_token"].as_str().unwrap_or_default().to_string();
                for i in 0.. {
                    let body = json!({
                        "channel": "phone", "kind": "help", "title": "路灯不亮",
                        "content": format!("第 {round} 轮 {t} 号客户端第 {i} 件：路灯不亮。"),
                        "caller": {"name": "张三", "phone": format!("139{round}{t:02}{i:05}")}
                    });
                    let r = c
                        .post(format!("{base}/api/v1/orders"))
                        .header("x-csrf-token", &csrf)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(r) = r else { return };
                    if r.status() != StatusCode::CREATED {
                        return;
                    }
                    let Ok(v) = r.json::<serde_json::Value>().await else {
                        return;
                    };
                    if let Some(n) = v["number"].as_str() {
                        acknowledged.lock().unwrap().push(n.to_string());
                    }
                }
            }));
        }
        // Killed in the middle of the writes: once a good number has been acknowledged (how
        // soon depends on the machine, not on what is tested), a little later.
        let waiting = std::time::Instant::now();
        while acknowledged.lock().unwrap().len() <= before + 20
            && waiting.elapsed() < Duration::from_secs(120)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for t in tasks {
            let _ = t.await;
        }
        // Every acknowledged order is in the store the next process opens.
        let store = Store::open(dir.path()).unwrap();
        let numbers = acknowledged.lock().unwrap().clone();
        assert!(
            numbers.len() > before + 20,
            "round {round}: only {} orders",
            numbers.len() - before
        );
        store
            .read(|tx| -> Result<(), hotline::store::StoreError> {
                for n in &numbers {
                    assert!(
                        hotline::store::orders::id_by_number(tx, n)?.is_some(),
                        "acknowledged {n} was lost"
                    );
                }
                crate::helpers::assert_derived_in_step(tx)
            })
            .unwrap();
        let verdict = hotline::service::audit::verify(&store).unwrap();
        assert!(matches!(
            verdict,
            hotline::service::audit::Verdict::Intact { .. }
        ));
        eprintln!("round {round}: {} acknowledged so far", numbers.len());
    }
}
