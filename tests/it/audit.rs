//! The audit log: events are recorded, browsable, and tampering is detected.

use std::process::Command;

use hotline::domain::role::Role;
use hotline::store::{Store, audit as audit_store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn verify(dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["audit", "verify", "--data"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn security_events_are_chained_and_tampering_is_named() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    // A failed login, a unit and a user change, a denial.
    let bad = app
        .client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        admin
            .post(
                "/api/v1/units",
                json!({"code": "ws", "name": "吴集镇", "league": "township"})
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    let op = app.user(&admin, "sun", Role::Operator).await;
    assert_eq!(
        op.get("/api/v1/users").await.status(),
        StatusCode::FORBIDDEN
    );

    let log: Value = admin.get("/api/v1/audit").await.json().await.unwrap();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "setup.complete",
        "login.success",
        "login.failure",
        "unit.create",
        "user.create",
        "password.change",
        "permission.denied",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    // Newest first, each linked to the one before.
    let items = log["items"].as_array().unwrap();
    for pair in items.windows(2) {
        assert_eq!(pair[0]["prev_hash"], pair[1]["hash"]);
        assert_eq!(
            pair[0]["seq"].as_u64().unwrap(),
            pair[1]["seq"].as_u64().unwrap() + 1
        );
    }
    // Filters.
    let only: Value = admin
        .get("/api/v1/audit?action=login.failure")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only["total"], 1);
    let by_user: Value = admin
        .get("/api/v1/audit?user=sun")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        by_user["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "sun")
    );
    let future: Value = admin
        .get("/api/v1/audit?from=2030-01-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(future["total"], 0);
    // The admin page lists them.
    let html = admin
        .get("/admin/audit?action=login")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("login.failure"));

    let dir = app.stop().await;
    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");

    // Alter the detail of entry 3 behind the application's back.
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|tx| -> Result<(), hotline::store::StoreError> {
                let mut victim = None;
                audit_store::scan(tx, 3, |e| {
                    victim = Some(e.unwrap());
                    false
                })?;
                let mut e = victim.unwrap();
                e.detail = "nothing happened here".into();
                audit_store::overwrite_for_test(tx, &e)
            })
            .unwrap();
    }
    let (code, out) = verify(dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("first bad entry: 3"), "{out}");
}
