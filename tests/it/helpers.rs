//! `TestApp`: a running server with a settable clock and clients per role.

use std::path::PathBuf;
use std::sync::Arc;

use hotline::clock::ManualClock;
use hotline::domain::role::Role;
use hotline::domain::time::Timestamp;
use hotline::server::{Running, ServeOptions, start};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// 2026-11-30 (a Monday) 09:00 in Beijing.
pub const T0: i64 = 1_796_000_400;

pub const ADMIN_PASSWORD: &str = "Lantern-pass-2026";
pub const USER_PASSWORD: &str = "Initial-pass-01";
pub const NEW_PASSWORD: &str = "Changed-pass-02";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub running: Option<Running>,
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub ca_pem: Vec<u8>,
    pub setup_code: Option<String>,
}

impl TestApp {
    pub async fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> TestApp {
        Self::start_with(dir, hotline::http::server::Limits::default()).await
    }

    /// A server with its own bounds on connections and slow clients.
    pub async fn start_with(
        dir: tempfile::TempDir,
        limits: hotline::http::server::Limits,
    ) -> TestApp {
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(T0)));
        let running = start(ServeOptions {
            data: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            plain_http: false,
            clock: clock.clone(),
            search: true,
            limits,
        })
        .await
        .unwrap();
        let ca_pem = std::fs::read(hotline::http::tls::ca_path(dir.path())).unwrap();
        TestApp {
            base: format!("https://127.0.0.1:{}", running.addr.port()),
            setup_code: running.setup_code.clone(),
            running: Some(running),
            dir,
            clock,
            ca_pem,
        }
    }

    /// Waits until the background indexer has taken in every order change.
    pub async fn indexed(&self) {
        let app = self.running.as_ref().unwrap().app.clone();
        for _ in 0..200 {
            if hotline::service::system::search_lag(&app).is_none_or(|n| n == 0) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the search index did not catch up");
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Stops the server (the database closes) and hands back the data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        self.dir
    }

    pub fn client(&self) -> Client {
        Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&self.ca_pem).unwrap())
            .tls_built_in_root_certs(false)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client whose requests come from another loopback address (127.0.0.N), as another
    /// PC on the office network would.
    pub fn client_at(&self, n: u8) -> Client {
        Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&self.ca_pem).unwrap())
            .tls_built_in_root_certs(false)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::from([127, 0, 0, n]))
            .build()
            .unwrap()
    }

    /// Completes first-boot setup and returns the admin's session.
    pub async fn admin(&self) -> Session {
        let c = self.client();
        let r = c
            .post(self.url("/api/v1/setup"))
            .json(&json!({"code": self.setup_code.clone().unwrap(), "username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        self.login("admin", ADMIN_PASSWORD).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Session {
        let c = self.client();
        let r = c
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "login {username}: {}",
            r.text().await.unwrap()
        );
        let body: Value = r.json().await.unwrap();
        Session {
            client: c,
            base: self.base.clone(),
            csrf: body["csrf_token"].as_str().unwrap().to_string(),
            body,
        }
    }

    /// Creates a unit with the code given (idempotent per code within a test).
    pub async fn unit(&self, admin: &Session, code: &str) -> u64 {
        let r = admin
            .post(
                "/api/v1/units",
                json!({"code": code, "name": format!("{code} 单位"), "league": "township"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
    }

    /// An admin-created user of `role` who has changed the initial password.
    pub async fn user(&self, admin: &Session, username: &str, role: Role) -> Session {
        let mut body = json!({"username": username, "display_name": "测试用户", "role": role.code(), "password": USER_PASSWORD});
        if role == Role::Unit {
            let code = format!("u-{username}");
            self.unit(admin, &code).await;
            body["unit"] = json!(code);
        }
        let r = admin.post("/api/v1/users", body).await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        let s = self.login(username, USER_PASSWORD).await;
        assert_eq!(s.body["must_change_password"], json!(true));
        let r = s
            .post(
                "/api/v1/session/password",
                json!({"old_password": USER_PASSWORD, "new_password": NEW_PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        s
    }
}

/// A logged-in client with its CSRF token.
#[derive(Clone)]
pub struct Session {
    pub client: Client,
    pub base: String,
    pub csrf: String,
    pub body: Value,
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.client
            .put(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.client
            .patch(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }
}

/// The JSON error code of a response.
pub async fn error_code(r: Response) -> String {
    let v: Value = r.json().await.unwrap();
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

/// Percent-encodes a query value.
/// Asserts that the index keys, counters and per-day facts the write path keeps equal those
/// made anew from the orders.
pub fn assert_derived_in_step(
    tx: &hotline::store::ReadTx,
) -> Result<(), hotline::store::StoreError> {
    let (keys, counts) = hotline::store::orders::derived(tx)?;
    let (kept_keys, kept_counts) = hotline::store::orders::stored(tx)?;
    assert_eq!(keys, kept_keys, "keys");
    assert_eq!(counts, kept_counts, "counters");
    assert_eq!(
        hotline::store::facts::derived(tx)?,
        hotline::store::facts::stored(tx)?,
        "facts"
    );
    Ok(())
}

pub fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
