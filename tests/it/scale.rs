//! Issue 9, point 2: every list, queue and home page reads one page, whatever the history.
//! 20,000 orders are loaded in bulk; the server runs as its own process (so the store's
//! decode counter is its alone, shown on `/metrics`), and each page as each role is checked
//! to read at most a page of whole orders per list it shows.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hotline::domain::role::Role;
use hotline::domain::time::Timestamp;
use hotline::store::Store;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "Scale-test-2026";

struct Server {
    child: Child,
    base: String,
    ca: Vec<u8>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn client(&self) -> Client {
        Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&self.ca).unwrap())
            .tls_built_in_root_certs(false)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    async fn decodes(&self) -> u64 {
        let text = self
            .client()
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("hotline_order_decodes_total "))
            .and_then(|n| n.trim().parse().ok())
            .expect("the decode counter is on /metrics")
    }

    async fn login(&self, user: &str) -> Client {
        let c = self.client();
        let r = c
            .post(format!("{}/api/v1/session", self.base))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        c
    }
}

/// Users of every role, with a known password and nothing to change first.
fn people(store: &Store, hash: &str, unit: hotline::domain::unit::UnitId) {
    use hotline::domain::user::User;
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            for (name, role) in [
                ("oper", Role::Operator),
                ("lead", Role::ShiftLead),
                ("qaqa", Role::Qa),
                ("supv", Role::Supervisor),
                ("admn", Role::Admin),
                ("clerk", Role::Unit),
            ] {
                let id = hotline::store::users::next_id(tx)?;
                hotline::store::users::put(
                    tx,
                    &User {
                        id,
                        username: name.into(),
                        display_name: name.into(),
                        role,
                        unit: (role == Role::Unit).then_some(unit),
                        password_hash: hash.into(),
                        must_change_password: false,
                        disabled: false,
                        created_at: Timestamp(0),
                        password_changed_at: Timestamp(0),
                    },
                )?;
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn lists_queues_and_homes_read_one_page_of_orders() {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    {
        let store = Store::open(dir.path()).unwrap();
        let hash = hotline::service::password::hash(PASSWORD).unwrap();
        let loaded = hotline::bulk::history(&store, 20_000, now, 730, 42, &hash).unwrap();
        assert_eq!(loaded.orders, 20_000);
        let cgj = store
            .read(|tx| hotline::store::units::id_by_code(tx, "cgj"))
            .unwrap()
            .unwrap();
        people(&store, &hash, cgj);
    }
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--data"])
        .arg(dir.path())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        base: format!("https://127.0.0.1:{port}"),
        ca: Vec::new(),
    };
    for _ in 0..600 {
        if let Ok(ca) = std::fs::read(hotline::http::tls::ca_path(dir.path())) {
            server.ca = ca;
            if server
                .client()
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut checked = 0;
    for (user, pages) in [
        (
            "oper",
            vec![
                ("/", 2),
                ("/orders", 1),
                ("/orders?state=closed", 1),
                ("/orders?kind=complaint", 1),
                ("/orders?channel=phone", 1),
                ("/orders?unit=cgj", 1),
                ("/orders?state=closed&kind=complaint", 1),
                ("/orders?page=100", 1),
                ("/orders?q=%E5%81%9C%E6%B0%B4", 1),
                ("/api/v1/orders?per_page=50", 1),
                ("/api/v1/orders?state=closed&per_page=50&page=30", 1),
            ],
        ),
        ("lead", vec![("/", 7)]),
        ("qaqa", vec![("/", 1)]),
        (
            "supv",
            vec![("/", 4), ("/orders?unit=cgj&state=dispatched", 1)],
        ),
        ("admn", vec![("/", 0), ("/orders", 1)]),
        (
            "clerk",
            vec![
                ("/", 5),
                ("/orders", 1),
                ("/orders?q=%E5%81%9C%E6%B0%B4", 1),
            ],
        ),
    ] {
        let c = server.login(user).await;
        for (path, lists) in pages {
            let before = server.decodes().await;
            let r = c
                .get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{user} {path}");
            let body = r.text().await.unwrap();
            let read = server.decodes().await - before;
            assert!(
                read <= 50 * lists + 5,
                "{user} {path} read {read} orders for {lists} list(s) of 50"
            );
            if path.starts_with("/orders") || path.starts_with("/api/") {
                assert!(body.contains("HD"), "{user} {path} shows orders");
            }
            checked += 1;
        }
    }
    assert!(checked >= 18);
    // The counters agree with the orders they count.
    let c = server.login("oper").await;
    let v: Value = c
        .get(format!("{}/api/v1/orders?per_page=1", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 20_000);
}
