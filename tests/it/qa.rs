//! Issue 10, point 2: quality inspection (质检) — the admin's rubric, the day's sample, QA's
//! score (veto items score 0), the operator's appeal within the window, the shift lead's
//! decision, and who may do what.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::error_code;
use crate::orders::{Centre, create, order_body};

fn full() -> Value {
    json!({"norms": 20, "attitude": 15, "competence": 25, "record": 25, "handling": 15})
}

#[tokio::test]
async fn qa_scores_the_sample_and_operators_appeal_within_the_window() {
    let mut c = Centre::new().await;
    // The default rubric: five items of 100 points, four veto items.
    let rubric: Value = c.op.get("/api/v1/qa/rubric").await.json().await.unwrap();
    let items = rubric["items"].as_array().unwrap();
    assert_eq!(items.len(), 9);
    assert_eq!(
        items.iter().filter(|i| i["veto"] == true).count(),
        4,
        "{rubric}"
    );
    // Sample everything today so the test knows the sample.
    let r = c
        .admin
        .client
        .put(c.admin.url("/api/v1/qa/rubric"))
        .header("x-csrf-token", &c.admin.csrf)
        .json(&json!({"sample_percent": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut ids = Vec::new();
    for i in 0..3 {
        let o = create(&c.op, order_body(&format!("1360000222{i}"), "井盖破损")).await;
        ids.push(o["id"].as_u64().unwrap());
    }
    let s: Value =
        c.qa.get("/api/v1/qa/samples?date=2026-11-30")
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(s["total"], 3, "{s}");
    assert_eq!(s["items"][0]["operator"]["display_name"], "测试用户");

    let inspect = |id: u64, body: Value| {
        let s = &c.qa;
        async move {
            s.post(&format!("/api/v1/orders/{id}/inspection"), body)
                .await
        }
    };
    let mut scores = full();
    scores["attitude"] = json!(10);
    scores["record"] = json!(20);
    let r = inspect(
        ids[0],
        json!({"scores": scores, "comment": "态度生硬，记录不全"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["total"], 90);
    // A veto scores the order 0 and needs the facts in the comment.
    let r = inspect(ids[1], json!({"scores": full(), "veto": ["leak"]})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = inspect(
        ids[1],
        json!({"scores": full(), "veto": ["leak"], "comment": "把来电人电话告诉了被投诉人"}),
    )
    .await;
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["total"], 0);
    // Every item scored, none above its points, no unknown item; once per order.
    let mut missing = full();
    missing.as_object_mut().unwrap().remove("record");
    for bad in [
        json!({"scores": missing}),
        json!({"scores": {"norms": 21, "attitude": 15, "competence": 25, "record": 25, "handling": 15}}),
        json!({"scores": full(), "veto": ["attitude"], "comment": "x"}),
        json!({"scores": {"norms": 20, "attitude": 15, "competence": 25, "record": 25, "handling": 15, "other": 1}}),
    ] {
        let r = inspect(ids[2], bad.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(
        error_code(inspect(ids[0], json!({"scores": full()})).await).await,
        "already_inspected"
    );
    let r =
        c.op.post(
            &format!("/api/v1/orders/{}/inspection", ids[2]),
            json!({"scores": full()}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The operator sees their own scores; the page lists them with 申诉.
    let mine: Value = c.op.get("/api/v1/inspections").await.json().await.unwrap();
    assert_eq!(mine["total"], 2);
    let page = c.op.get("/qa").await.text().await.unwrap();
    assert!(
        page.contains("我的质检") && page.contains("服务态度 10/15") && page.contains("提交申诉")
    );
    // Appeal: only the inspected operator, once, within the window.
    let appeal = |s: &crate::helpers::Session, id: &Value| {
        let path = format!("/api/v1/inspections/{}/appeal", id["id"]);
        let s = s.clone();
        async move {
            s.post(&path, json!({"reason": "当时来电人情绪激动，已按规范安抚"}))
                .await
        }
    };
    assert_eq!(
        appeal(&c.lead, &first).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(appeal(&c.op, &first).await.status(), StatusCode::OK);
    assert_eq!(
        error_code(appeal(&c.op, &first).await).await,
        "already_appealed"
    );
    c.advance(4 * 86_400).await;
    assert_eq!(
        error_code(appeal(&c.op, &second).await).await,
        "appeal_window_closed"
    );

    // The shift lead decides with a note: setting the score aside.
    let decide = |body: Value| {
        let path = format!("/api/v1/inspections/{}/decide", first["id"]);
        let s = c.lead.clone();
        async move { s.post(&path, body).await }
    };
    assert_eq!(
        decide(json!({"uphold": false})).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r =
        c.qa.post(
            &format!("/api/v1/inspections/{}/decide", first["id"]),
            json!({"uphold": false, "note": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let lead_page = c.lead.get("/qa").await.text().await.unwrap();
    assert!(lead_page.contains("质检申诉待审核"));
    let v: Value = decide(json!({"uphold": false, "note": "录音显示已按规范安抚"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["counts"], false);
    assert_eq!(v["appeal"]["outcome"], "annulled");
    assert_eq!(
        error_code(decide(json!({"uphold": true, "note": "再审"})).await).await,
        "no_pending_appeal"
    );
    // Everything is audited.
    let log: Value = c
        .admin
        .get("/api/v1/audit?action=qa.")
        .await
        .json()
        .await
        .unwrap();
    assert!(log["total"].as_u64().unwrap() >= 5, "{log}");
}

#[tokio::test]
async fn the_scoring_form_and_the_rubric_page_work_in_the_browser_forms() {
    let c = Centre::new().await;
    let id = create(&c.op, order_body("13600003333", "路面塌陷")).await["id"]
        .as_u64()
        .unwrap();
    let form =
        c.qa.get(&format!("/qa/orders/{id}"))
            .await
            .text()
            .await
            .unwrap();
    assert!(form.contains("否决项") && form.contains("name=\"s_attitude\""));
    let r =
        c.qa.form(
            &format!("/qa/orders/{id}"),
            &[
                ("s_norms", "20"),
                ("s_attitude", "15"),
                ("s_competence", "20"),
                ("s_record", "25"),
                ("s_handling", "15"),
                ("comment", "业务解答不够准确"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = c.qa.get("/qa").await.text().await.unwrap();
    assert!(page.contains("<strong>95</strong>"), "the score is listed");
    let r =
        c.qa.form(&format!("/qa/orders/{id}"), &[("s_norms", "abc")])
            .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The admin edits the rubric; a table that does not add up to 100 is refused.
    let rubric = c.admin.get("/admin/qa").await.text().await.unwrap();
    assert!(rubric.contains("服务规范"));
    let r = c
        .admin
        .form(
            "/admin/qa",
            &[
                ("code_0", "norms"),
                ("name_0", "服务规范"),
                ("points_0", "60"),
                ("code_1", "attitude"),
                ("name_1", "服务态度"),
                ("points_1", "30"),
                ("sample_percent", "10"),
                ("appeal_days", "5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("之和须为 100"));
    let r = c
        .admin
        .form(
            "/admin/qa",
            &[
                ("code_0", "norms"),
                ("name_0", "服务规范"),
                ("points_0", "60"),
                ("code_1", "attitude"),
                ("name_1", "服务态度"),
                ("points_1", "40"),
                ("code_2", "abuse"),
                ("name_2", "辱骂"),
                ("veto_2", "on"),
                ("sample_percent", "10"),
                ("appeal_days", "5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let rules: Value = c.qa.get("/api/v1/qa/rubric").await.json().await.unwrap();
    assert_eq!(rules["items"].as_array().unwrap().len(), 3);
    assert_eq!(rules["appeal_days"], 5);
    // Units and the supervisor cannot score; units see no QA at all.
    for (s, path, code) in [
        (&c.unit_a, "/qa", StatusCode::FORBIDDEN),
        (&c.unit_a, "/api/v1/inspections", StatusCode::FORBIDDEN),
        (&c.sup, "/api/v1/qa/samples", StatusCode::FORBIDDEN),
        (&c.op, "/admin/qa", StatusCode::FORBIDDEN),
        (&c.sup, "/qa", StatusCode::OK),
    ] {
        assert_eq!(s.get(path).await.status(), code, "{path}");
    }
}

/// Issue 11, point 3: 下一件 takes the QA desk from one callback to the next waiting one,
/// and home when none is left; only those who call back use it.
#[tokio::test]
async fn next_callback_leads_through_the_callback_queue() {
    use crate::orders::{Centre, create, ok, order_body};
    let c = Centre::new().await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let id = create(&c.op, order_body(&format!("1350000999{i}"), "路灯不亮")).await["id"]
            .as_u64()
            .unwrap();
        ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
        ok(&c.unit_a, id, "sign", json!({})).await;
        ok(
            &c.unit_a,
            id,
            "reply",
            json!({"result": "已更换路灯灯泡，现已恢复照明。", "resolved": "yes", "contacted": true}),
        )
        .await;
        ok(&c.lead, id, "review_reply", json!({"approve": true})).await;
        ids.push(id);
    }
    let next = |after: Option<u64>| {
        let s = c.qa.clone();
        async move {
            let url = match after {
                Some(a) => format!("/callbacks/next?after={a}"),
                None => "/callbacks/next".to_string(),
            };
            let r = s.get(&url).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            r.headers()["location"].to_str().unwrap().to_string()
        }
    };
    assert_eq!(next(None).await, format!("/orders/{}", ids[0]));
    // The desk shows how long each caller has waited for the callback, in the queue and the panel.
    c.app.clock.advance_secs(25 * 60);
    let home = c.qa.get("/").await.text().await.unwrap();
    assert!(home.contains("已等待 25 分钟"), "{home}");
    let page =
        c.qa.get(&format!("/orders/{}", ids[0]))
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("<strong>已等待 25 分钟</strong>"), "{page}");
    // An unreachable attempt leaves the first waiting: 下一件 passes over it.
    ok(
        &c.qa,
        ids[0],
        "callback",
        json!({"satisfaction": "unreachable"}),
    )
    .await;
    assert_eq!(next(Some(ids[0])).await, format!("/orders/{}", ids[1]));
    for id in &ids {
        for _ in 0..3 {
            let r =
                c.qa.post(
                    &format!("/api/v1/orders/{id}/actions/callback"),
                    json!({"satisfaction": "satisfied", "resolved": "yes"}),
                )
                .await;
            if r.status() == StatusCode::OK {
                break;
            }
        }
    }
    assert_eq!(next(None).await, "/?ok=callbacks_done");
    let page =
        c.qa.get(&format!("/orders/{}", ids[0]))
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("下一件回访"), "{page}");
    assert_eq!(
        c.op.get("/callbacks/next").await.status(),
        StatusCode::FORBIDDEN
    );
}
