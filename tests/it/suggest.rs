//! Issue 12, point 6: dispatch suggestions — the three likeliest units for a matter, learned
//! from the county's closed orders, with their measured accuracy on the month held out.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, create, ok, order_body};

/// Registers a matter and runs it to its close at `unit` (the clerk `clerk`).
async fn closed(
    c: &Centre,
    clerk: &crate::helpers::Session,
    unit: &str,
    cat: &str,
    town: &str,
    title: &str,
    content: &str,
) {
    let mut b = order_body("13812345678", title);
    b["category"] = json!(cat);
    b["content"] = json!(content);
    b["address"] = json!({"town": town, "detail": "某路某号"});
    let id = create(&c.op, b).await["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": unit})).await;
    ok(clerk, id, "sign", json!({})).await;
    ok(
        clerk,
        id,
        "reply",
        json!({"result": "已派人到现场处理完毕，情况已向来电人说明。", "resolved": "yes", "contacted": true}),
    )
    .await;
    ok(&c.lead, id, "review_reply", json!({"approve": true})).await;
    ok(
        &c.qa,
        id,
        "callback",
        json!({"satisfaction": "satisfied", "resolved": "yes"}),
    )
    .await;
    ok(&c.lead, id, "close", json!({})).await;
}

const LAMPS: [&str; 5] = [
    "路灯不亮，晚上一片漆黑",
    "小区门口路灯坏了好几盏",
    "路灯线路老化，一到晚上就熄灭",
    "新修的路没有安装路灯",
    "路灯白天也亮着，浪费电",
];
const WATER: [&str; 5] = [
    "水管爆裂，整条街停水",
    "自来水浑浊发黄，不能饮用",
    "连续三天停水没有通知",
    "水压太低，楼上用不了水",
    "水表漏水，水费异常偏高",
];

#[tokio::test]
async fn the_three_likeliest_units_from_the_countys_own_history() {
    let mut c = Centre::new().await;
    // A history: street lamps in 洣水镇 go to unit A, water in 城关镇 to unit B.
    for round in 0..2 {
        for (i, t) in LAMPS.iter().enumerate() {
            let unit_a = c.unit_a.clone();
            closed(
                &c,
                &unit_a,
                "u-clerk-a",
                "0702",
                "洣水镇",
                &format!("路灯{round}{i}"),
                t,
            )
            .await;
        }
        for (i, t) in WATER.iter().enumerate() {
            let unit_b = c.unit_b.clone();
            closed(
                &c,
                &unit_b,
                "u-clerk-b",
                "0701",
                "城关镇",
                &format!("供水{round}{i}"),
                t,
            )
            .await;
        }
    }
    // Five weeks on, one more of each (the month the measurement holds out).
    c.advance(35 * 86_400).await;
    let unit_a = c.unit_a.clone();
    closed(
        &c,
        &unit_a,
        "u-clerk-a",
        "0702",
        "洣水镇",
        "路灯又坏",
        "路灯不亮已经一周",
    )
    .await;
    let unit_b = c.unit_b.clone();
    closed(
        &c,
        &unit_b,
        "u-clerk-b",
        "0701",
        "城关镇",
        "又停水了",
        "今天又停水，水管爆裂",
    )
    .await;
    c.advance(86_400).await;
    c.app.indexed().await;

    // By words alone, by category and town alone, and all three.
    for q in [
        "text=%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE%EF%BC%8C%E6%99%9A%E4%B8%8A%E7%9C%8B%E4%B8%8D%E8%A7%81%E8%B7%AF", // 路灯不亮，晚上看不见路
        "category=0702&town=%E6%B4%A3%E6%B0%B4%E9%95%87",
        "category=0702&town=%E6%B4%A3%E6%B0%B4%E9%95%87&text=%E8%B7%AF%E7%81%AF",
    ] {
        let v: Value =
            c.op.get(&format!("/api/v1/suggest/units?{q}"))
                .await
                .json()
                .await
                .unwrap();
        let items = v["items"].as_array().unwrap();
        assert!(!items.is_empty() && items.len() <= 3, "{q}: {v}");
        assert_eq!(items[0]["unit"]["code"], "u-clerk-a", "{q}: {v}");
        assert!(items[0]["confidence"].as_f64().unwrap() > 0.5, "{q}: {v}");
        let sum: f64 = items
            .iter()
            .map(|i| i["confidence"].as_f64().unwrap())
            .sum();
        assert!(sum <= 1.01);
    }
    let v: Value = c
        .lead
        .get("/api/v1/suggest/units?text=%E6%B0%B4%E7%AE%A1%E7%88%86%E8%A3%82%E5%81%9C%E6%B0%B4") // 水管爆裂停水
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["unit"]["code"], "u-clerk-b", "{v}");
    // Nothing known: nothing suggested.
    let v: Value =
        c.op.get("/api/v1/suggest/units?category=1201")
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(v["items"], json!([]));
    // Units do not ask; a text too long is refused.
    assert_eq!(
        c.unit_a.get("/api/v1/suggest/units?text=x").await.status(),
        StatusCode::FORBIDDEN
    );
    let long = "路".repeat(4001);
    let r =
        c.op.get(&format!("/api/v1/suggest/units?text={long}"))
            .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The measured accuracy on the month held out (the two latest orders).
    assert_eq!(
        c.op.post("/api/v1/admin/suggest", json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let v: Value = c
        .admin
        .post("/api/v1/admin/suggest", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let a = &v["accuracy"];
    assert_eq!(a["sample"], 2, "{v}");
    assert_eq!(a["top1_rate"], 100.0, "{v}");
    assert_eq!(a["top3_rate"], 100.0, "{v}");
    let page = c
        .admin
        .get("/admin/suggestions")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("首选命中率") && page.contains("100.0%"),
        "{page}"
    );
    let got: Value = c
        .admin
        .get("/api/v1/admin/suggest")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["accuracy"]["top1"], 2);
}
