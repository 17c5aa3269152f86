//! First boot: the one-time setup code creates the first admin, once.

use std::os::unix::fs::PermissionsExt;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, TestApp, error_code};

#[tokio::test]
async fn setup_code_creates_the_first_admin_once() {
    let app = TestApp::new().await;
    let code = app
        .setup_code
        .clone()
        .expect("a fresh data dir prints a setup code");
    let file = app.data().join("setup-code");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), code);

    let c = app.client();
    // A wrong code is refused and creates nobody.
    let r = c
        .post(app.url("/api/v1/setup"))
        .json(&json!({"code": "AAAA-BBBB-CCCC", "username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A weak password is refused with the field named.
    let r = c
        .post(app.url("/api/v1/setup"))
        .json(&json!({"code": code, "username": "admin", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "password");

    // The code is accepted in lower case and without dashes.
    let typed = code.replace('-', "").to_lowercase();
    let r = c
        .post(app.url("/api/v1/setup"))
        .json(&json!({"code": typed, "username": "Admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["username"], "admin");
    assert_eq!(body["role"], "admin");
    assert!(body.get("password_hash").is_none());
    assert!(!file.exists(), "the setup-code file is removed after use");

    // The same code cannot be used again, nor any other.
    let r = c
        .post(app.url("/api/v1/setup"))
        .json(&json!({"code": code, "username": "admin2", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(r).await, "already_set_up");
    // The page answers 4xx too.
    let r = c.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("系统已完成初始化"));

    // The admin can log in; no other account exists.
    let admin = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.body["role"], "admin");
    assert_eq!(admin.body["must_change_password"], false);
    let users: serde_json::Value = admin.get("/api/v1/users").await.json().await.unwrap();
    assert_eq!(users["total"], 1);

    // A restart with users makes no new code.
    let dir = app.stop().await;
    let app = TestApp::start_in(dir).await;
    assert!(app.setup_code.is_none());
    assert!(!app.data().join("setup-code").exists());
}

#[tokio::test]
async fn setup_page_creates_the_admin() {
    let app = TestApp::new().await;
    let c = app.client();
    let page = c.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let pre = hidden_value(&html, "csrf");
    // Mismatched passwords: the form comes back with the name kept.
    let r = c
        .post(app.url("/setup"))
        .form(&[
            ("csrf", pre.as_str()),
            ("code", app.setup_code.as_deref().unwrap()),
            ("username", "chief"),
            ("password", ADMIN_PASSWORD),
            ("password2", "something-else"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("两次输入的密码不一致"));
    assert!(html.contains("value=\"chief\""));
    let r = c
        .post(app.url("/setup"))
        .form(&[
            ("csrf", pre.as_str()),
            ("code", app.setup_code.as_deref().unwrap()),
            ("username", "chief"),
            ("display_name", "李主任"),
            ("password", ADMIN_PASSWORD),
            ("password2", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?ok=setup_done");
    let s = app.login("chief", ADMIN_PASSWORD).await;
    assert_eq!(s.body["display_name"], "李主任");
}

pub fn hidden_value(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no hidden {name}"))
        + needle.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}
