//! Issue 8, points 9 and 10: co-units take part; merge and callback finish the job.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, act, create, get, ok, order_body};

fn actions(v: &Value) -> Vec<String> {
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn co_units_take_part() {
    let mut c = Centre::new().await;
    let o = create(&c.op, order_body("13922220001", "小区积水严重")).await;
    let id = o["id"].as_u64().unwrap();
    ok(
        &c.op,
        id,
        "dispatch",
        json!({"unit": "u-clerk-a", "co_units": ["u-clerk-b"]}),
    )
    .await;
    // The co-unit has it in its 协办 list, with its own deadline to sign.
    let home = c.unit_b.get("/").await.text().await.unwrap();
    assert!(home.contains("协办") && home.contains("小区积水严重"));
    let v = get(&c.unit_b, id).await;
    assert_eq!(v["due"]["kind"], "sign");
    assert_eq!(
        actions(&v),
        vec!["co_sign"],
        "a co-unit signs only its own part"
    );
    let r = act(&c.unit_b, id, "sign", json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = act(&c.unit_a, id, "co_sign", json!({})).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the main unit is no co-unit"
    );
    let v = ok(&c.unit_b, id, "co_sign", json!({})).await;
    assert_eq!(v["due"]["kind"], "co_opinion");
    assert!(v["rounds"][0]["co_parts"][0]["signed_at"].is_string());
    assert_eq!(actions(&v), vec!["co_opinion"]);
    let r = act(&c.unit_b, id, "co_opinion", json!({"note": ""})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    ok(
        &c.unit_b,
        id,
        "co_opinion",
        json!({"note": "建议由住建局同步检查排水管网"}),
    )
    .await;
    // The main unit sees the opinion when it writes its reply.
    ok(&c.unit_a, id, "sign", json!({})).await;
    let v = get(&c.unit_a, id).await;
    assert_eq!(
        v["rounds"][0]["co_parts"][0]["opinions"][0]["text"],
        "建议由住建局同步检查排水管网"
    );
    let page = c
        .unit_a
        .get(&format!("/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("协办意见：建议由住建局同步检查排水管网"));
    ok(
        &c.unit_a,
        id,
        "reply",
        json!({"result": "已会同住建局疏通排水管网，积水已排除。", "resolved": "yes", "contacted": true}),
    )
    .await;

    // A co-unit that does not sign goes overdue on its own list, like a main unit.
    let o = create(&c.op, order_body("13922220002", "路面塌陷")).await;
    let id = o["id"].as_u64().unwrap();
    ok(
        &c.op,
        id,
        "dispatch",
        json!({"unit": "u-clerk-a", "co_units": ["u-clerk-b"]}),
    )
    .await;
    c.advance(3 * 86400).await;
    let v = get(&c.unit_b, id).await;
    assert_eq!(v["due"]["state"], "overdue");
    assert!(v["due"]["left"].as_str().unwrap().contains("已超期"));
    let home = c.unit_b.get("/").await.text().await.unwrap();
    assert!(home.contains("路面塌陷") && home.contains("已超期"));
}

#[tokio::test]
async fn merge_and_callback_finish_the_job() {
    let mut c = Centre::new().await;
    let master = create(&c.op, order_body("13933330001", "路灯不亮")).await;
    let mid = master["id"].as_u64().unwrap();
    let child = create(&c.op, order_body("13933330002", "同一盏路灯不亮")).await;
    let cid = child["id"].as_u64().unwrap();
    ok(&c.op, cid, "merge", json!({"into": mid})).await;
    ok(&c.op, mid, "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, mid, "sign", json!({})).await;
    ok(
        &c.unit_a,
        mid,
        "reply",
        json!({"result": "已更换路灯灯泡并检修线路。", "resolved": "yes", "contacted": true,
               "public_reply": "路灯已修复。"}),
    )
    .await;
    let v = ok(&c.lead, mid, "review_reply", json!({"approve": true})).await;
    // The callback deadline is stored: the end of the next working day.
    assert_eq!(v["due"]["kind"], "callback");
    assert_eq!(v["due"]["due"], "2026-12-01T17:30:00+08:00");
    // The merged caller gets the master's reply and a callback of their own.
    let v = get(&c.qa, cid).await;
    assert_eq!(v["state"], "merged");
    assert_eq!(v["merged_reply"], "路灯已修复。");
    assert_eq!(v["flags"]["callback_pending"], true);
    assert_eq!(actions(&v), vec!["callback"]);
    let home = c.qa.get("/").await.text().await.unwrap();
    assert!(home.contains("同一盏路灯不亮") && home.contains("路灯不亮"));
    let page =
        c.qa.get(&format!("/orders/{cid}"))
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("答复是：路灯已修复。"));
    let v = ok(&c.qa, cid, "callback", json!({"satisfaction": "satisfied"})).await;
    assert_eq!(v["state"], "merged");
    assert!(v["flags"].get("callback_pending").is_none());
    assert!(actions(&v).is_empty(), "called back once");

    // The master's callback turns overdue on the QA desk.
    c.advance(2 * 86400).await;
    let v = get(&c.qa, mid).await;
    assert_eq!(v["due"]["state"], "overdue");
    // QA calls back, finds the caller unsatisfied, and proposes a reopen.
    ok(
        &c.qa,
        mid,
        "callback",
        json!({"satisfaction": "unsatisfied", "resolved": "no", "note": "灯又坏了"}),
    )
    .await;
    let v = ok(
        &c.qa,
        mid,
        "propose_reopen",
        json!({"reason": "来电人反映路灯修后次日又不亮"}),
    )
    .await;
    assert_eq!(v["state"], "final_review");
    assert!(v["flags"]["reopen_proposal"]["reason"].is_string());
    // The shift lead decides; closing is held until then.
    let home = c.lead.get("/").await.text().await.unwrap();
    assert!(home.contains("重办建议"));
    let r = act(&c.lead, mid, "close", json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = act(&c.lead, mid, "decide_reopen", json!({"approve": false})).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refusal says why"
    );
    let r = act(
        &c.op,
        mid,
        "decide_reopen",
        json!({"approve": true, "note": "重修"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = act(&c.lead, mid, "decide_reopen", json!({"approve": true})).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the unit is told why"
    );
    let v = ok(
        &c.lead,
        mid,
        "decide_reopen",
        json!({"approve": true, "note": "请重新检修该路段线路"}),
    )
    .await;
    assert_eq!(v["state"], "dispatched");
    assert_eq!(v["rounds"].as_array().unwrap().len(), 2);
    assert_eq!(v["flags"]["reopen_count"], 1);
    assert_eq!(
        v["timeline"].as_array().unwrap().last().unwrap()["action"],
        "reopen"
    );
    // The unit sees the reopen in the shift lead's words, not QA's notes or proposal.
    let v = get(&c.unit_a, mid).await;
    assert!(v.to_string().contains("请重新检修该路段线路"));
    assert!(!v.to_string().contains("修后次日又不亮"));
    assert!(!v.to_string().contains("灯又坏了"));

    // An order merged into one already answered is called back too.
    let direct = create(&c.op, order_body("13933330003", "社保卡补办")).await;
    let did = direct["id"].as_u64().unwrap();
    ok(
        &c.op,
        did,
        "answer",
        json!({"reply": "可到镇政务服务中心补办。"}),
    )
    .await;
    let late = create(&c.op, order_body("13933330004", "社保卡怎么补办")).await;
    let lid = late["id"].as_u64().unwrap();
    ok(&c.op, lid, "merge", json!({"into": did})).await;
    let v = get(&c.qa, lid).await;
    assert_eq!(v["merged_reply"], "可到镇政务服务中心补办。");
    assert_eq!(v["flags"]["callback_pending"], true);
}
