//! Issue 8, point 11: backups keep the day's earlier copies, HEAD passes the access guard
//! like GET, and caller data seen in lists counts in the who-viewed log.

use reqwest::StatusCode;
use serde_json::Value;

use crate::orders::{Centre, create, order_body};

#[tokio::test]
async fn backups_keep_the_days_earlier_copies() {
    let c = Centre::new().await;
    let mut names = Vec::new();
    for _ in 0..3 {
        let r = c
            .admin
            .post("/api/v1/admin/backups", serde_json::json!({}))
            .await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        // The next one a few minutes later the same day.
        c.app.clock.advance_secs(600);
    }
    let list: Value = c
        .admin
        .get("/api/v1/admin/backups")
        .await
        .json()
        .await
        .unwrap();
    for item in list["items"].as_array().unwrap() {
        names.push(item["name"].as_str().unwrap().to_string());
    }
    assert_eq!(names.len(), 3, "all of today's backups stay: {names:?}");
}

#[tokio::test]
async fn head_requests_pass_the_access_guard_like_get() {
    let c = Centre::new().await;
    let anon = c.app.client();
    let r = anon
        .head(c.app.url("/api/v1/categories"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = anon.head(c.app.url("/orders")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r =
        c.op.client
            .head(c.op.url("/admin/users"))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .admin
        .client
        .head(c.admin.url("/admin/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn views_of_caller_data_in_lists_count_in_the_who_viewed_log() {
    let c = Centre::new().await;
    let o = create(&c.op, order_body("13911112222", "路灯不亮")).await;
    let id = o["id"].as_u64().unwrap();
    let r = c.lead.get("/api/v1/orders?phone=13911112222").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c.qa.get("/orders?q=13911112222").await;
    assert_eq!(r.status(), StatusCode::OK);
    let views: Value = c
        .sup
        .get(&format!("/api/v1/orders/{id}/views"))
        .await
        .json()
        .await
        .unwrap();
    let listed: Vec<&Value> = views["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["kind"] == "list")
        .collect();
    assert_eq!(listed.len(), 2, "{views}");
    assert!(listed.iter().any(|v| v["role"] == "shift_lead"));
    assert!(listed.iter().any(|v| v["role"] == "qa"));
    let page = c
        .sup
        .get(&format!("/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("列表中查看"));
}
