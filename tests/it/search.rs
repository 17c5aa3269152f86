//! Full-text search: Chinese bigrams over title, content, address and replies; the index is
//! derived data, rebuilt when missing and caught up after a restart.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::orders::{Centre, create, ok, order_body};

async fn titles(s: &crate::helpers::Session, q: &str) -> Vec<String> {
    let url = format!("/api/v1/orders?q={}", crate::helpers::urlenc(q));
    let v: Value = s.get(&url).await.json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn chinese_full_text_ranked_and_rebuilt() {
    let c = Centre::new().await;
    let mut a = order_body("13212340000", "噪音扰民");
    a["content"] = json!("小区旁边的工地夜间施工噪音很大，严重影响休息。");
    let a = create(&c.op, a).await["id"].as_u64().unwrap();
    let mut b = order_body("13212340001", "供水问题");
    b["content"] = json!("我们村停水三天了，自来水公司一直没有来维修。");
    b["address"] = json!({"town": "霞流镇", "detail": "霞流镇冲口村"});
    create(&c.op, b).await;
    let mut d = order_body("13212340002", "夜间噪音");
    d["content"] = json!("楼下烧烤店夜间噪音扰民。");
    create(&c.op, d).await;

    assert_eq!(titles(&c.op, "停水").await, vec!["供水问题"]);
    assert_eq!(
        titles(&c.op, "冲口村").await,
        vec!["供水问题"],
        "the address is searched"
    );
    let noise = titles(&c.op, "噪音扰民").await;
    assert_eq!(noise.len(), 2);
    assert!(titles(&c.op, "医保").await.is_empty());
    // Replies become searchable once written.
    ok(&c.op, a, "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, a, "sign", json!({})).await;
    ok(&c.unit_a, a, "reply", json!({"result": "已责令施工单位晚十点后停工并处罚款。", "resolved": "yes", "contacted": true})).await;
    assert_eq!(titles(&c.op, "处罚款").await, vec!["噪音扰民"]);
    // Caller data is never indexed.
    assert!(titles(&c.op, "张三").await.is_empty());
    // Search combines with the other filters; units see only their own.
    let v: Value =
        c.op.get(&format!(
            "/api/v1/orders?q={}&state=registered",
            crate::helpers::urlenc("噪音")
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(titles(&c.unit_b, "噪音").await.len(), 0);
    assert_eq!(titles(&c.unit_a, "噪音").await, vec!["噪音扰民"]);

    // The index is derived: delete it, restart, and it is rebuilt from the database.
    let Centre { app, .. } = c;
    let dir = app.stop().await;
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let app = TestApp::start_in(dir).await;
    let s = app.login("op1", crate::helpers::NEW_PASSWORD).await;
    assert_eq!(titles(&s, "停水").await, vec!["供水问题"]);
}

#[tokio::test]
async fn people_find_orders_by_the_number_without_its_prefix_and_callers_by_the_last_digits() {
    let c = Centre::new().await;
    let mobile = create(&c.op, order_body("13800001234", "路灯不亮")).await;
    create(&c.op, order_body("13900005678", "占道经营")).await;
    let mut land = order_body("07345212345", "停水");
    land["caller"]["phone"] = json!("0734-5212345");
    let land = create(&c.op, land).await;
    let found = |s: &crate::helpers::Session, phone: &str| {
        let s = s.clone();
        let url = format!("/api/v1/orders?phone={}", crate::helpers::urlenc(phone));
        async move {
            let r = s.get(&url).await;
            assert_eq!(r.status(), reqwest::StatusCode::OK, "{url}");
            let v: Value = r.json().await.unwrap();
            let mut ids: Vec<u64> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_u64().unwrap())
                .collect();
            ids.sort_unstable();
            (ids, v["total"].as_u64().unwrap())
        }
    };
    let id = |o: &Value| o["id"].as_u64().unwrap();
    // The last 4 to 10 digits, as people say them (spaces, dashes, full-width digits).
    assert_eq!(found(&c.op, "1234").await, (vec![id(&mobile)], 1));
    assert_eq!(found(&c.op, "0000 1234").await, (vec![id(&mobile)], 1));
    assert_eq!(found(&c.op, "１２３４").await, (vec![id(&mobile)], 1));
    assert_eq!(found(&c.op, "521-2345").await, (vec![id(&land)], 1));
    assert_eq!(found(&c.lead, "2345").await, (vec![id(&land)], 1));
    assert_eq!(found(&c.op, "9991234").await, (vec![], 0));
    assert_eq!(found(&c.op, "4321").await, (vec![], 0));
    // With another filter the tail's orders are checked row by row.
    for (kind, total) in [("help", 1), ("complaint", 0)] {
        let v: Value =
            c.op.get(&format!("/api/v1/orders?phone=1234&kind={kind}"))
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(v["total"], total, "{kind}");
    }
    // A unit never searches by caller, not by the end of a number either.
    assert_eq!(
        c.unit_a.get("/api/v1/orders?phone=1234").await.status(),
        reqwest::StatusCode::FORBIDDEN
    );
    // The search box: the last digits list the caller's orders for staff…
    let page = c.op.get("/orders?q=1234").await.text().await.unwrap();
    assert!(page.contains(mobile["number"].as_str().unwrap()), "{page}");
    assert!(!page.contains("占道经营"), "{page}");
    // …and are only words for a unit (which sees no order of these).
    let page = c.unit_a.get("/orders?q=1234").await.text().await.unwrap();
    assert!(!page.contains(mobile["number"].as_str().unwrap()));
    // An order number without its prefix, or in small letters, opens the order.
    let number = mobile["number"].as_str().unwrap();
    for typed in [
        number.to_string(),
        number[2..].to_string(),
        number.to_lowercase(),
    ] {
        let r =
            c.op.get(&format!("/orders?q={}", crate::helpers::urlenc(&typed)))
                .await;
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "{typed}");
        assert_eq!(
            r.headers()["location"],
            format!("/orders/{}", id(&mobile)).as_str()
        );
    }
    // A unit's guess at a number it may not see opens nothing.
    let r = c.unit_a.get(&format!("/orders?q={}", &number[2..])).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    // The index kept by the write path is the one made anew from the orders.
    let dir = c.app.stop().await;
    hotline::store::Store::open(dir.path())
        .unwrap()
        .read(crate::helpers::assert_derived_in_step)
        .unwrap();
}
