//! The knowledge base: versioned articles, found from intake, cited by direct answers.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, create, ok, order_body};

#[tokio::test]
async fn articles_are_versioned_found_at_intake_and_cited() {
    let c = Centre::new().await;
    let art = json!({
        "title": "新生儿参加城乡居民医保",
        "body": "新生儿出生后可凭出生医学证明在湘易办或县医保局窗口办理城乡居民医保参保登记，出生当年免缴费。",
        "doc_no": "衡东医保发〔2026〕3号", "valid_from": "2026-01-01", "valid_to": "2026-12-31"
    });
    // Operators read; shift leads and the admin write.
    assert_eq!(
        c.op.post("/api/v1/kb", art.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = c
        .lead
        .post("/api/v1/kb", json!({"title": "x", "body": ""}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c.lead.post("/api/v1/kb", art.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    let id = a["id"].as_u64().unwrap();
    assert_eq!(a["version"], 1);
    let mut v2 = art.clone();
    v2["body"] = json!(
        "新生儿出生后 90 天内参保，可凭出生医学证明在湘易办办理，出生当年个人缴费由财政代缴。"
    );
    let r = c
        .admin
        .client
        .put(c.admin.url(&format!("/api/v1/kb/{id}")))
        .header("x-csrf-token", &c.admin.csrf)
        .json(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value =
        c.op.get(&format!("/api/v1/kb/{id}"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(got["article"]["version"], 2);
    assert_eq!(got["versions"].as_array().unwrap().len(), 2);
    let found: Value =
        c.op.get("/api/v1/kb?q=%E6%96%B0%E7%94%9F%E5%84%BF")
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(found["total"], 1);

    // Typing the matter at intake brings the article up.
    let hints: Value = c
        .op
        .get("/api/v1/intake/hints?content=%E6%96%B0%E7%94%9F%E5%84%BF%E5%8C%BB%E4%BF%9D%E6%80%8E%E4%B9%88%E5%8A%9E%E7%90%86")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hints["articles"][0]["id"], id, "{hints}");

    // A direct answer cites the version it used; a later revision does not change that.
    let mut b = order_body("13712340000", "新生儿医保");
    b["kind"] = json!("inquiry");
    let oid = create(&c.op, b).await["id"].as_u64().unwrap();
    let bad = crate::orders::act(
        &c.op,
        oid,
        "answer",
        json!({"reply": "见知识库", "articles": [999]}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v = ok(
        &c.op,
        oid,
        "answer",
        json!({"reply": got["article"]["body"], "articles": [id]}),
    )
    .await;
    assert_eq!(v["cited"], json!([[id, 2]]));
    let page =
        c.op.get(&format!("/orders/{oid}"))
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("第 2 版"));
    // Pages.
    assert_eq!(c.op.get("/kb").await.status(), StatusCode::OK);
    assert_eq!(
        c.op.get(&format!("/kb/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(c.op.get("/kb/new").await.status(), StatusCode::FORBIDDEN);
    let r = c
        .lead
        .form("/kb", &[("title", "停水通知"), ("body", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("正文须为"));
}
