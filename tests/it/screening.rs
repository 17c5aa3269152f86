//! Screening: harassment incidents, repeat harassers, the blacklist and the printed record.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, act, create, order_body};

fn codes(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn harassment_threshold_blacklist_and_record() {
    let c = Centre::new().await;
    let phone = "13999990000";
    for i in 0..3 {
        let v = create(&c.op, order_body(phone, &format!("骚扰{i}"))).await;
        assert!(!codes(&v).contains(&"repeat_harasser".to_string()));
        let r = act(
            &c.op,
            v["id"].as_u64().unwrap(),
            "reject",
            json!({"reason_code": 9, "note": "辱骂话务员"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The fourth call: the number is a repeat harasser, and still gets an order.
    let v = create(&c.op, order_body(phone, "又来了")).await;
    assert!(codes(&v).contains(&"repeat_harasser".to_string()), "{v}");
    // Operators may not blacklist; the shift lead may, with a reason and a review date.
    let body = json!({"phone": phone, "reason": "30 天内骚扰 3 次", "review_date": "2027-03-01"});
    assert_eq!(
        c.op.post("/api/v1/blacklist", body.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    let bad = json!({"phone": phone, "reason": "x", "review_date": "2026-01-01"});
    assert_eq!(
        c.lead.post("/api/v1/blacklist", bad).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        c.lead.post("/api/v1/blacklist", body).await.status(),
        StatusCode::CREATED
    );
    // A blacklisted number still gets an order when a person decides so; emergencies are never blocked.
    let mut fire = order_body(phone, "着火了");
    fire["content"] = json!("楼下起火了，快来人");
    let v = create(&c.op, fire).await;
    let cs = codes(&v);
    assert!(
        cs.contains(&"blacklisted".to_string()) && cs.contains(&"emergency".to_string()),
        "{cs:?}"
    );
    let list: Value = c.op.get("/api/v1/blacklist").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    // The record prints with every incident.
    let rec: Value = c
        .lead
        .get(&format!("/api/v1/phones/{phone}/record"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rec["incidents"].as_array().unwrap().len(), 3);
    assert_eq!(rec["calls"].as_array().unwrap().len(), 5);
    let html = c
        .lead
        .get(&format!("/phones/{phone}/record"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("骚扰来电情况记录"));
    assert!(html.contains("骚扰0"), "the incidents list what was said");
    // Units and QA cannot read the record.
    assert_eq!(
        c.unit_a
            .get(&format!("/api/v1/phones/{phone}/record"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Lifting keeps the entry for the record.
    assert_eq!(
        c.lead
            .post(&format!("/api/v1/blacklist/{phone}/lift"), json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let v = create(&c.op, order_body(phone, "移出后")).await;
    assert!(!codes(&v).contains(&"blacklisted".to_string()));
    let list: Value = c.lead.get("/api/v1/blacklist").await.json().await.unwrap();
    assert_eq!(list["items"][0]["active"], false);
    // The page form works and shows errors in Chinese.
    let r = c
        .lead
        .form(
            "/blacklist",
            &[
                ("phone", "abc"),
                ("reason", "骚扰"),
                ("review_date", "2027-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("电话号码格式不正确"));
}
