//! Bad input of every kind: a clear error in the right shape, and nothing changes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn user_count(admin: &crate::helpers::Session) -> u64 {
    let v: Value = admin.get("/api/v1/users").await.json().await.unwrap();
    v["total"].as_u64().unwrap()
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = user_count(&admin).await;
    let send = |body: Vec<u8>, ctype: &'static str| {
        admin
            .client
            .post(admin.url("/api/v1/users"))
            .header("x-csrf-token", &admin.csrf)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let cases: Vec<(Vec<u8>, &str, u16, &str)> = vec![
        (b"{not json".to_vec(), "application/json", 400, "malformed"),
        (vec![b'"', 0xff, 0xfe, b'"'], "application/json", 400, "malformed"),
        (br#"{"username": 5, "role": "operator", "password": "x"}"#.to_vec(), "application/json", 422, "invalid_field"),
        (br#"{"username": "a1b2c3", "role": "boss", "password": "Long-enough-1"}"#.to_vec(), "application/json", 422, "invalid_field"),
        (br#"{"username": "a1b2c3", "role": "unit", "password": "Long-enough-1"}"#.to_vec(), "application/json", 422, "invalid_field"),
        (br#"{"username": "a1b2c3", "role": "operator", "password": "Long-enough-1", "unit": "nope"}"#.to_vec(), "application/json", 422, "invalid_field"),
        (br#"{"username": "a1b2c3"}"#.to_vec(), "text/plain", 415, "unsupported_media_type"),
        (vec![b' '; 300 * 1024], "application/json", 413, "too_large"),
    ];
    for (body, ctype, status, code) in cases {
        let r = send(body, ctype).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "expected {status} {code}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code);
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    // A duplicate username is a conflict.
    let ok = json!({"username": "lisi", "role": "qa", "password": "Long-enough-1"});
    assert_eq!(
        admin.post("/api/v1/users", ok.clone()).await.status(),
        StatusCode::CREATED
    );
    let r = admin.post("/api/v1/users", ok).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(user_count(&admin).await, before + 1);

    // Unknown routes: JSON for the API, a Chinese page otherwise.
    let r = admin.get("/api/v1/nothing-here").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
    let r = admin.get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("页面不存在"));
    // Wrong method, bad ids, bad query strings.
    let r = admin
        .client
        .put(admin.url("/api/v1/users"))
        .header("x-csrf-token", &admin.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "method_not_allowed"
    );
    assert_eq!(
        admin.get("/api/v1/users/abc").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .get("/api/v1/users/99999999999999999999999")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.get("/api/v1/users/999").await.status(),
        StatusCode::NOT_FOUND
    );
    let r = admin.get("/api/v1/audit?page=minus-one").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = admin.get("/api/v1/audit?from=2026-02-30").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Unknown fields in a patch are refused, not ignored.
    let r = admin
        .patch("/api/v1/users/1", json!({"is_root": true}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A unit with a bad code, a bad league, a duplicate code.
    let r = admin
        .post(
            "/api/v1/units",
            json!({"code": "洣水", "name": "洣水镇", "league": "township"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post(
            "/api/v1/units",
            json!({"code": "ms", "name": "洣水镇", "league": "city"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        admin
            .post(
                "/api/v1/units",
                json!({"code": "ms", "name": "洣水镇", "league": "township"})
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    let r = admin
        .post(
            "/api/v1/units",
            json!({"code": "ms", "name": "又一个", "league": "county"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let units: Value = admin.get("/api/v1/units").await.json().await.unwrap();
    assert_eq!(units["total"], 1);
    // Settings out of range are refused.
    let r = admin
        .client
        .put(admin.url("/api/v1/settings"))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"org_name": "衡东县12345热线", "idle_timeout_minutes": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["field"],
        "idle_timeout_minutes"
    );
    // A bad form post re-renders the page with a message, not a 500.
    let r = admin
        .form(
            "/admin/units",
            &[
                ("code", "bad code!"),
                ("name", "某单位"),
                ("league", "county"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("单位编码须为"));
    assert!(
        html.contains("value=\"某单位\""),
        "the form keeps what was typed"
    );
    let r = admin
        .client
        .post(admin.url("/admin/units"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&code=%FF%FE&name=x&league=county",
            admin.csrf
        ))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "got {}", r.status());
}

#[tokio::test]
async fn healthz_answers_without_a_session_and_shows_no_data() {
    let app = TestApp::new().await;
    let r = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, json!({"status": "ok"}));
}

#[tokio::test]
async fn static_assets_are_hashed_compressed_and_cached() {
    let app = TestApp::new().await;
    let c = app.client();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("/static/app.").unwrap();
    let end = html[start..].find(".css").unwrap() + start + 4;
    let path = html[start..end].replace("&#x2f;", "/");
    let r = c
        .get(app.url(&path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = r.headers()["etag"].clone();
    let r = c
        .get(app.url(&path))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    // Pages carry the security headers and are not cached.
    let r = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
}
