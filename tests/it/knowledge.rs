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

#[tokio::test]
async fn articles_are_found_by_a_synonym_or_an_abbreviation_the_office_lists() {
    let c = Centre::new().await;
    let art = json!({
        "title": "社会保障卡补办和挂失",
        "body": "社会保障卡遗失后可拨打 12333 临时挂失，再持居民身份证到县人社局窗口补办，当场制卡。",
        "doc_no": "衡东人社发〔2026〕5号"
    });
    assert_eq!(
        c.lead.post("/api/v1/kb", art).await.status(),
        StatusCode::CREATED
    );
    let found = |q: &str| {
        let s = c.op.clone();
        let url = format!("/api/v1/kb?q={}", crate::helpers::urlenc(q));
        async move {
            let v: Value = s.get(&url).await.json().await.unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["title"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // The shipped list already knows 社保卡.
    assert_eq!(found("社保卡补办").await, ["社会保障卡补办和挂失"]);
    assert!(found("电动车上牌").await.is_empty());
    // The office adds its own abbreviation; the search finds it at once.
    assert!(found("人社卡").await.is_empty());
    let put = |body: Value| {
        let s = c.lead.clone();
        async move {
            s.client
                .put(s.url("/api/v1/kb/synonyms"))
                .header("x-csrf-token", &s.csrf)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = put(json!({"groups": [["社保卡", "社会保障卡", "人社卡"]]})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(found("人社卡").await, ["社会保障卡补办和挂失"]);
    // Operators read the list but do not change it; a bad list changes nothing.
    let got: Value = c.op.get("/api/v1/kb/synonyms").await.json().await.unwrap();
    assert_eq!(got["groups"], json!([["社保卡", "社会保障卡", "人社卡"]]));
    let r =
        c.op.client
            .put(c.op.url("/api/v1/kb/synonyms"))
            .header("x-csrf-token", &c.op.csrf)
            .json(&json!({"groups": []}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = put(json!({"groups": [["社保卡", "长".repeat(21)]]})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = put(json!({"groups": "社保卡"})).await;
    assert!(r.status().is_client_error());
    assert_eq!(found("人社卡").await.len(), 1);
    // The page: the list as lines; saved by form; an error said in Chinese.
    let page = c.lead.get("/kb/synonyms").await.text().await.unwrap();
    assert!(page.contains("社保卡 社会保障卡 人社卡"), "{page}");
    let r = c
        .lead
        .form(
            "/kb/synonyms",
            &[("groups", "社保卡，社会保障卡\n医保、医疗保险")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(found("人社卡").await.is_empty());
    let r = c
        .lead
        .form("/kb/synonyms", &[("groups", &"长".repeat(21))])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("同义词每个最多 20 个字"));
    assert_eq!(
        c.op.get("/kb/synonyms").await.status(),
        StatusCode::FORBIDDEN
    );
}
