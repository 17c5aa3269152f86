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
    // The page says each event and its subject in Chinese, not as codes.
    let page = admin.get("/admin/audit").await.text().await.unwrap();
    for shown in [
        "登录失败",
        "新建承办单位",
        "单位 吴集镇",
        "新建用户",
        "越权访问被拒",
    ] {
        assert!(page.contains(shown), "{shown} missing from the audit page");
    }
    assert!(page.contains("（sun）"), "the user is named: {page}");
    assert!(
        !page.contains(">login.failure<") && !page.contains(">user:"),
        "{page}"
    );
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

/// Every audit event the program writes has a Chinese name on the log page: the codes are
/// read from the source (`event("…"`, `action: "…"`), so a new event without a name fails
/// here rather than showing as a code.
#[test]
fn every_audit_event_in_the_source_has_a_chinese_name() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(std::path::Path::new("src"), &mut files);
    let mut codes = std::collections::BTreeSet::new();
    for f in files {
        let s = std::fs::read_to_string(&f).unwrap();
        for marker in ["event(", "action: "] {
            for (i, _) in s.match_indices(marker) {
                let rest = s[i + marker.len()..].trim_start();
                let Some(lit) = rest.strip_prefix('"') else {
                    continue;
                };
                let code: String = lit.chars().take_while(|c| *c != '"').collect();
                let (a, b) = code.split_once('.').unwrap_or(("", ""));
                let word = |w: &str| {
                    !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                };
                if word(a) && word(b) {
                    codes.insert(code);
                }
            }
        }
    }
    assert!(codes.len() > 30, "the scan finds the events: {codes:?}");
    for code in &codes {
        assert_ne!(
            hotline::domain::audit::action_label(code),
            *code,
            "audit event {code} has no Chinese name"
        );
    }
    // Every order action too (`order.{action}`).
    for a in hotline::domain::order_state::Action::ALL {
        let code = format!("order.{}", a.code());
        assert!(
            hotline::domain::audit::action_label(&code).starts_with("工单："),
            "{code}"
        );
    }
}

/// The overview's 在线人数 counts people signed in now, not their sessions.
#[tokio::test]
async fn the_overview_counts_people_signed_in_not_sessions() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let figures = |page: &str| -> (u64, u64) {
        let num = |after: &str, until: &str| -> u64 {
            let i = page
                .find(after)
                .unwrap_or_else(|| panic!("{after} in {page}"))
                + after.len();
            page[i..]
                .split(until)
                .next()
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        (
            num("在线人数</span><span class=\"value\">", "<"),
            num("会话 ", "个"),
        )
    };
    let (people, sessions) = figures(&admin.get("/admin").await.text().await.unwrap());
    let _op = app.user(&admin, "zhou", Role::Operator).await;
    let _again = app.login("zhou", crate::helpers::NEW_PASSWORD).await;
    let (p2, s2) = figures(&admin.get("/admin").await.text().await.unwrap());
    assert_eq!(p2, people + 1, "one more person");
    assert!(s2 >= sessions + 2, "two more sessions: {sessions} → {s2}");
}
