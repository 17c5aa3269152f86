//! Integration tokens: a platform registers and reads its own channel's orders only.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, create, order_body};

#[tokio::test]
async fn a_platform_token_sees_only_its_channel() {
    let c = Centre::new().await;
    assert_eq!(
        c.op.post(
            "/api/v1/admin/tokens",
            json!({"name": "x", "channel": "governor_mailbox"})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "省长信箱对接", "channel": "phone"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "省长信箱对接", "channel": "governor_mailbox"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    let tid = v["item"]["id"].as_u64().unwrap();
    // The token itself is never shown again.
    let list: Value = c
        .admin
        .get("/api/v1/admin/tokens")
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(&token));

    let client = c.app.client();
    let call = |m: reqwest::Method, path: &str, body: Option<Value>| {
        let mut r = client.request(m, c.app.url(path)).bearer_auth(&token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    let mut mine = order_body("13112340000", "平台来信");
    mine["channel"] = json!("governor_mailbox");
    mine["external_id"] = json!("SZ-0001");
    let r = call(reqwest::Method::POST, "/api/v1/orders", Some(mine.clone()))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "no CSRF token is needed with a bearer token"
    );
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    // The centre's queues are no platform's business.
    let r = call(reqwest::Method::GET, "/api/v1/me/counters", None)
        .await
        .unwrap();
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status()
    );
    // The same platform number again: the same order (idempotent).
    let r = call(reqwest::Method::POST, "/api/v1/orders", Some(mine))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut other = order_body("13112340001", "别的渠道");
    other["channel"] = json!("county_mailbox");
    assert_eq!(
        call(reqwest::Method::POST, "/api/v1/orders", Some(other))
            .await
            .unwrap()
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // An order registered by the desk on another channel is invisible to the platform.
    let desk = create(&c.op, order_body("13112340002", "电话件")).await["id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        call(
            reqwest::Method::GET,
            &format!("/api/v1/orders/{desk}"),
            None
        )
        .await
        .unwrap()
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(reqwest::Method::GET, &format!("/api/v1/orders/{id}"), None)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let list: Value = call(reqwest::Method::GET, "/api/v1/orders", None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    // Nothing else is open to it.
    assert_eq!(
        call(reqwest::Method::GET, "/api/v1/users", None)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            reqwest::Method::POST,
            &format!("/api/v1/orders/{id}/actions/withdraw"),
            Some(json!({"note": "x"}))
        )
        .await
        .unwrap()
        .status(),
        StatusCode::FORBIDDEN
    );
    // A wrong or revoked token is refused.
    let r = client
        .get(c.app.url("/api/v1/orders"))
        .bearer_auth("hl_nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        c.admin
            .post(&format!("/api/v1/admin/tokens/{tid}/revoke"), json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(reqwest::Method::GET, "/api/v1/orders", None)
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
