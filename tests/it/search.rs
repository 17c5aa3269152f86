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
