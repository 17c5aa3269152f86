//! Work orders through the API: intake, every path of the life cycle, visibility, masking,
//! deadlines, automatic urging and concurrency.

use hotline::domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_code};

/// A staffed centre: one of each role, two units with a clerk each.
pub struct Centre {
    pub app: TestApp,
    pub admin: Session,
    pub op: Session,
    pub lead: Session,
    pub qa: Session,
    pub sup: Session,
    /// Clerk of unit `u-clerk-a`.
    pub unit_a: Session,
    /// Clerk of unit `u-clerk-b`.
    pub unit_b: Session,
}

impl Centre {
    pub async fn new() -> Centre {
        let app = TestApp::new().await;
        let admin = app.admin().await;
        let op = app.user(&admin, "op1", Role::Operator).await;
        let lead = app.user(&admin, "lead1", Role::ShiftLead).await;
        let qa = app.user(&admin, "qa1", Role::Qa).await;
        let sup = app.user(&admin, "sup1", Role::Supervisor).await;
        let unit_a = app.user(&admin, "clerk-a", Role::Unit).await;
        let unit_b = app.user(&admin, "clerk-b", Role::Unit).await;
        Centre {
            app,
            admin,
            op,
            lead,
            qa,
            sup,
            unit_a,
            unit_b,
        }
    }

    /// Moves the clock on; sessions would have timed out, so everyone signs in again.
    pub async fn advance(&mut self, secs: i64) {
        self.app.clock.advance_secs(secs);
        let pw = crate::helpers::NEW_PASSWORD;
        self.admin = self
            .app
            .login("admin", crate::helpers::ADMIN_PASSWORD)
            .await;
        self.op = self.app.login("op1", pw).await;
        self.lead = self.app.login("lead1", pw).await;
        self.qa = self.app.login("qa1", pw).await;
        self.sup = self.app.login("sup1", pw).await;
        self.unit_a = self.app.login("clerk-a", pw).await;
        self.unit_b = self.app.login("clerk-b", pw).await;
    }
}

pub fn order_body(phone: &str, title: &str) -> Value {
    json!({
        "channel": "phone", "line": "general", "kind": "help", "urgency": "normal",
        "category": "1001", "title": title,
        "content": format!("{title}：建设路菜市场门口每天早上占道经营，车辆无法通行，请相关部门处理。"),
        "caller": {"name": "张三", "phone": phone, "gender": "male", "consent_phone": false},
        "address": {"town": "洣水镇", "village": "建设社区", "detail": "建设路菜市场"}
    })
}

pub async fn create(s: &Session, body: Value) -> Value {
    let r = s.post("/api/v1/orders", body).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

pub async fn act(s: &Session, id: u64, action: &str, body: Value) -> reqwest::Response {
    s.post(&format!("/api/v1/orders/{id}/actions/{action}"), body)
        .await
}

pub async fn ok(s: &Session, id: u64, action: &str, body: Value) -> Value {
    let r = act(s, id, action, body).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{action}: {}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

pub async fn get(s: &Session, id: u64) -> Value {
    let r = s.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn intake_validates_every_field_and_numbers_orders() {
    let mut c = Centre::new().await;
    let mut bad = order_body("1381234567", "电话不对");
    let r = c.op.post("/api/v1/orders", bad.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["field"], "caller.phone");
    bad["caller"]["phone"] = json!("0734-5212345");
    bad["kind"] = json!("complaint");
    let r = c.op.post("/api/v1/orders", bad.clone()).await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["field"],
        "caller.id_number"
    );
    bad["caller"]["id_number"] = json!("430424199001011236");
    let r = c.op.post("/api/v1/orders", bad.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("校验位"));
    bad["caller"]["id_number"] = json!("430424199001011232");
    let ok1 = create(&c.op, bad.clone()).await;
    assert_eq!(ok1["state"], "registered");
    assert_eq!(ok1["number"], "HD2026113000001");
    // Enterprise line: the credit code's check character.
    let mut ent = order_body("13900001111", "企业诉求");
    ent["line"] = json!("enterprise");
    let r = c.op.post("/api/v1/orders", ent.clone()).await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["field"],
        "enterprise"
    );
    ent["enterprise"] = json!({"name": "衡东某公司", "credit_code": "91350100M000100Y44"});
    let r = c.op.post("/api/v1/orders", ent.clone()).await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["field"],
        "enterprise.credit_code"
    );
    ent["enterprise"]["credit_code"] = json!("91350100M000100Y43");
    assert_eq!(create(&c.op, ent).await["number"], "HD2026113000002");
    // NPC line needs the deputy.
    let mut npc = order_body("13900002222", "代表建议");
    npc["line"] = json!("npc");
    assert_eq!(
        c.op.post("/api/v1/orders", npc.clone()).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    npc["deputy"] = json!({"name": "李代表", "level": "县人大代表"});
    create(&c.op, npc).await;
    // Unknown codes and categories.
    let mut x = order_body("13900003333", "x");
    x["channel"] = json!("fax");
    assert_eq!(
        c.op.post("/api/v1/orders", x).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut x = order_body("13900003333", "x");
    x["category"] = json!("9999");
    assert_eq!(
        c.op.post("/api/v1/orders", x).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Only intake roles register.
    assert_eq!(
        c.qa.post("/api/v1/orders", order_body("13900003333", "x"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.unit_a
            .post("/api/v1/orders", order_body("13900003333", "x"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The next day starts a new serial.
    c.advance(86400).await;
    let next = create(&c.op, order_body("13900004444", "第二天")).await;
    assert_eq!(next["number"], "HD2026120100001");
}

#[tokio::test]
async fn platform_intake_is_idempotent_and_hints_come_back_as_warnings() {
    let c = Centre::new().await;
    let mut b = order_body("13812345678", "省长信箱来信");
    b["channel"] = json!("governor_mailbox");
    b["external_id"] = json!("SZXX-2026-0042");
    b["external_due"] = json!("2026-12-01");
    let first = create(&c.op, b.clone()).await;
    let r = c.op.post("/api/v1/orders", b).await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["number"], first["number"]);

    // Same caller, similar words: a likely duplicate.
    let dup = create(&c.op, order_body("13812345678", "又来反映占道")).await;
    let w = dup["warnings"].as_array().unwrap();
    let d = w
        .iter()
        .find(|x| x["code"] == "possible_duplicate")
        .expect("duplicate warning");
    assert!(d["order_ids"].as_array().unwrap().contains(&first["id"]));
    // Emergency words.
    let mut fire = order_body("13700000000", "起火");
    fire["content"] = json!("小区楼道起火冒烟了，有人被困");
    let v = create(&c.op, fire).await;
    let e = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "emergency")
        .expect("emergency");
    assert_eq!(e["numbers"], json!(["119"]));
    // Live hints while typing: history by phone.
    let h: Value = c
        .op
        .get("/api/v1/intake/hints?phone=138%201234%205678&content=%E5%8D%A0%E9%81%93%E7%BB%8F%E8%90%A5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h["phone_valid"], true);
    assert_eq!(h["history"].as_array().unwrap().len(), 2);
}

async fn unit_ids(c: &Centre) -> (u64, u64) {
    let units: Value = c.admin.get("/api/v1/units").await.json().await.unwrap();
    let find = |code: &str| {
        units["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    (find("u-clerk-a"), find("u-clerk-b"))
}

#[tokio::test]
async fn the_full_path_dispatch_sign_reply_review_callback_close() {
    let mut c = Centre::new().await;
    let (ua, _) = unit_ids(&c).await;
    let id = create(&c.op, order_body("13812345678", "占道经营")).await["id"]
        .as_u64()
        .unwrap();
    let v = ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    assert_eq!(v["state"], "dispatched");
    assert_eq!(v["rounds"][0]["unit"]["id"], ua);
    // Normal urgency: one working day to sign, from Monday 09:00.
    assert_eq!(v["rounds"][0]["sign_due"], "2026-12-01T09:00:00+08:00");
    assert_eq!(v["due"]["kind"], "sign");
    assert_eq!(v["due"]["left"], "剩 1 个工作日");

    // The other unit cannot see it at all.
    assert_eq!(
        c.unit_b.get(&format!("/api/v1/orders/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(&c.unit_b, id, "sign", json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    // The unit sees the caller masked, and no ID number.
    let seen = get(&c.unit_a, id).await;
    assert_eq!(seen["caller"]["name"], "张*");
    assert_eq!(seen["caller"]["phone"], Value::Null);
    assert_eq!(seen["caller"]["id_number"], Value::Null);
    assert_eq!(seen["actions"], json!(["sign", "return"]));

    c.advance(3600).await;
    let v = ok(&c.unit_a, id, "sign", json!({})).await;
    assert_eq!(v["state"], "in_progress");
    // help: 5 working days from signing at 10:00 Monday.
    assert_eq!(v["rounds"][0]["handle_due"], "2026-12-07T10:00:00+08:00");
    ok(
        &c.unit_a,
        id,
        "progress",
        json!({"note": "已联系城管中队现场查看"}),
    )
    .await;
    let v = ok(&c.unit_a, id, "reply", json!({
        "result": "已组织城管中队清理占道摊点，并安排每日早间巡查。",
        "resolved": "yes", "contacted": true, "contacted_at": "2026-11-30 9:30", "contact_method": "电话",
        "public_reply": "已处理。"
    })).await;
    assert_eq!(v["state"], "reply_review");
    let v = ok(&c.lead, id, "review_reply", json!({"approve": true})).await;
    assert_eq!(v["state"], "callback_pending");
    let v = ok(
        &c.qa,
        id,
        "callback",
        json!({"satisfaction": "satisfied", "resolved": "yes", "note": "来电人表示满意"}),
    )
    .await;
    assert_eq!(v["state"], "final_review");
    let v = ok(&c.lead, id, "close", json!({})).await;
    assert_eq!(v["state"], "closed");
    assert_eq!(v["closure"], "reviewed");
    let actions: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "register",
            "dispatch",
            "sign",
            "progress",
            "reply",
            "review_reply",
            "callback",
            "close"
        ]
    );
    // Each entry is data: the code, typed parameters, the user's own words.
    let t = &v["timeline"];
    assert_eq!(t[1]["p"]["unit"]["id"], ua);
    assert_eq!(t[1]["p"]["round"], 1);
    assert_eq!(t[1]["p"]["due"], "2026-12-01 09:00:00");
    assert_eq!(t[1]["note"], "");
    assert_eq!(t[2]["p"]["due"], "2026-12-07 10:00:00");
    assert_eq!(t[3]["note"], "已联系城管中队现场查看");
    assert_eq!(t[4]["p"]["resolved"], "yes");
    assert_eq!(
        t[4]["note"],
        "已组织城管中队清理占道摊点，并安排每日早间巡查。"
    );
    assert_eq!(t[5]["p"]["approve"], true);
    assert_eq!(t[6]["p"]["satisfaction"], "satisfied");
    assert_eq!(t[6]["note"], "来电人表示满意");
    // The page words them in Chinese.
    let page = c
        .lead
        .get(&format!("/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    for sentence in [
        "派至",
        "签收时限 2026-12-01 09:00:00",
        "已签收，办理时限 2026-12-07 10:00:00",
        "中途汇报：已联系城管中队现场查看",
        "答复（已解决）：已组织城管中队清理占道摊点",
        "答复审核通过，请于",
        "回访：满意，已解决：来电人表示满意",
        "工单已审结",
    ] {
        assert!(page.contains(sentence), "the timeline lacks {sentence:?}");
    }
    // Every action is in the audit log.
    let log: Value = c
        .admin
        .get("/api/v1/audit?action=order.")
        .await
        .json()
        .await
        .unwrap();
    assert!(log["total"].as_u64().unwrap() >= 8);
    // Nothing more can happen to a closed order.
    assert_eq!(
        act(&c.lead, id, "close", json!({})).await.status(),
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn direct_answer_reject_merge_and_withdraw() {
    let c = Centre::new().await;
    let a = create(&c.op, order_body("13811110000", "咨询")).await["id"]
        .as_u64()
        .unwrap();
    let v = ok(
        &c.op,
        a,
        "answer",
        json!({"reply": "新生儿参保可在湘易办办理。"}),
    )
    .await;
    assert_eq!(v["state"], "closed");
    assert_eq!(v["closure"], "direct");
    // QA may sample a direct answer without changing it.
    let v = ok(
        &c.qa,
        a,
        "callback",
        json!({"satisfaction": "very_satisfied"}),
    )
    .await;
    assert_eq!(v["state"], "closed");

    let b = create(&c.op, order_body("13811110001", "骚扰")).await["id"]
        .as_u64()
        .unwrap();
    let r = act(&c.op, b, "reject", json!({"reason_code": 11, "note": ""})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v = ok(
        &c.op,
        b,
        "reject",
        json!({"reason_code": 3, "note": "已告知拨打 119", "transferred_to": "119"}),
    )
    .await;
    assert_eq!(v["state"], "rejected");
    assert_eq!(v["reject_code"], 3);

    let master = create(&c.op, order_body("13811110002", "主单")).await["id"]
        .as_u64()
        .unwrap();
    let dup = create(&c.op, order_body("13811110003", "重复")).await["id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        act(&c.op, dup, "merge", json!({"into": dup}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let v = ok(&c.op, dup, "merge", json!({"into": master})).await;
    assert_eq!(v["state"], "merged");
    assert_eq!(v["flags"]["merged_into"], master);
    let m = get(&c.op, master).await;
    assert_eq!(m["flags"]["merged_from"], json!([dup]));

    let w = create(&c.op, order_body("13811110004", "撤单")).await["id"]
        .as_u64()
        .unwrap();
    ok(&c.op, w, "dispatch", json!({"unit": "u-clerk-a"})).await;
    assert_eq!(
        act(&c.op, w, "withdraw", json!({"note": ""}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let v = ok(
        &c.op,
        w,
        "withdraw",
        json!({"note": "来电人表示已自行解决"}),
    )
    .await;
    assert_eq!(v["state"], "withdrawn");
}

#[tokio::test]
async fn return_redispatch_extension_send_back_and_reopen() {
    let c = Centre::new().await;
    let id = create(&c.op, order_body("13822220000", "退单")).await["id"]
        .as_u64()
        .unwrap();
    ok(
        &c.op,
        id,
        "dispatch",
        json!({"unit": "u-clerk-a", "co_units": ["u-clerk-b"]}),
    )
    .await;
    // A co-unit can see but not act.
    assert_eq!(
        c.unit_b.get(&format!("/api/v1/orders/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        act(&c.unit_b, id, "sign", json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let v = ok(
        &c.unit_a,
        id,
        "return",
        json!({"reason": "不属于本单位职责", "basis": "三定方案"}),
    )
    .await;
    assert_eq!(v["state"], "return_review");
    // Denied: back to where it was.
    let v = ok(
        &c.lead,
        id,
        "decide_return",
        json!({"approve": false, "note": "属于你单位职责"}),
    )
    .await;
    assert_eq!(v["state"], "dispatched");
    ok(
        &c.unit_a,
        id,
        "return",
        json!({"reason": "确实不属于本单位"}),
    )
    .await;
    let v = ok(&c.lead, id, "decide_return", json!({"approve": true})).await;
    assert_eq!(v["state"], "registered");
    // Redispatch to the other unit: a second round.
    let v = ok(&c.lead, id, "dispatch", json!({"unit": "u-clerk-b"})).await;
    assert_eq!(v["rounds"].as_array().unwrap().len(), 2);
    ok(&c.unit_b, id, "sign", json!({})).await;
    // Extension: too long, then fine, then approved.
    assert_eq!(
        act(
            &c.unit_b,
            id,
            "request_extension",
            json!({"days": 11, "reason": "x"})
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    ok(
        &c.unit_b,
        id,
        "request_extension",
        json!({"days": 3, "reason": "需协调多部门"}),
    )
    .await;
    assert_eq!(
        act(
            &c.unit_b,
            id,
            "request_extension",
            json!({"days": 1, "reason": "again"})
        )
        .await
        .status(),
        StatusCode::CONFLICT
    );
    let before = get(&c.lead, id).await["rounds"][1]["handle_due"].clone();
    let v = ok(&c.sup, id, "decide_extension", json!({"approve": true})).await;
    assert_ne!(v["rounds"][1]["handle_due"], before);
    assert_eq!(v["rounds"][1]["handle_due"], "2026-12-10T09:00:00+08:00");
    // A reply shorter than a sentence is refused by the server; one sent back, then answered
    // again.
    let r = act(
        &c.unit_b,
        id,
        "reply",
        json!({"result": "已处理", "resolved": "partly", "contacted": false}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    ok(
        &c.unit_b,
        id,
        "reply",
        json!({"result": "已处理，请来电人自行查看。", "resolved": "partly", "contacted": false}),
    )
    .await;
    assert_eq!(
        act(&c.lead, id, "review_reply", json!({"approve": false}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let v = ok(
        &c.lead,
        id,
        "review_reply",
        json!({"approve": false, "note": "答复过于简单"}),
    )
    .await;
    assert_eq!(v["state"], "in_progress");
    ok(
        &c.unit_b,
        id,
        "reply",
        json!({"result": "已现场处理并回复来电人。", "resolved": "yes", "contacted": true}),
    )
    .await;
    ok(&c.lead, id, "review_reply", json!({"approve": true})).await;
    // Unreachable twice stays; the third time moves on.
    for attempt in 1..=3 {
        let v = ok(
            &c.qa,
            id,
            "callback",
            json!({"satisfaction": "unreachable"}),
        )
        .await;
        let expect = if attempt < 3 {
            "callback_pending"
        } else {
            "final_review"
        };
        assert_eq!(v["state"], expect, "attempt {attempt}");
    }
    // Not satisfied: reopened to the same unit in a new round.
    let v = ok(
        &c.sup,
        id,
        "reopen",
        json!({"reason": "来电人反映问题依旧"}),
    )
    .await;
    assert_eq!(v["state"], "dispatched");
    assert_eq!(v["flags"]["reopen_count"], 1);
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    assert_eq!(rounds[2]["unit"]["code"], "u-clerk-b");
}

#[tokio::test]
async fn wrong_role_is_403_wrong_state_409_stale_version_409() {
    let c = Centre::new().await;
    let id = create(&c.op, order_body("13833330000", "权限")).await["id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        act(&c.qa, id, "dispatch", json!({"unit": "u-clerk-a"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(&c.op, id, "close", json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = act(&c.lead, id, "close", json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(r).await, "wrong_state");
    assert_eq!(
        act(&c.op, id, "no_such_action", json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(&c.op, 999_999, "dispatch", json!({"unit": "u-clerk-a"}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(&c.op, id, "dispatch", json!({"unit": "nowhere"}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        act(
            &c.op,
            id,
            "dispatch",
            json!({"unit": "u-clerk-a", "bogus": 1})
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let v = get(&c.op, id).await;
    assert_eq!(v["state"], "registered");
    let version = v["version"].as_u64().unwrap();
    let r = act(
        &c.op,
        id,
        "dispatch",
        json!({"unit": "u-clerk-a", "version": version + 5}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(r).await, "stale_version");
    ok(
        &c.op,
        id,
        "dispatch",
        json!({"unit": "u-clerk-a", "version": version}),
    )
    .await;
}

#[tokio::test]
async fn two_people_acting_at_once_one_wins() {
    let c = Centre::new().await;
    let id = create(&c.op, order_body("13844440000", "并发")).await["id"]
        .as_u64()
        .unwrap();
    let version = get(&c.op, id).await["version"].as_u64().unwrap();
    let (a, b) = tokio::join!(
        act(
            &c.op,
            id,
            "dispatch",
            json!({"unit": "u-clerk-a", "version": version})
        ),
        act(
            &c.lead,
            id,
            "dispatch",
            json!({"unit": "u-clerk-b", "version": version})
        ),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let v = get(&c.op, id).await;
    assert_eq!(v["rounds"].as_array().unwrap().len(), 1);

    // Numbers stay unique under concurrent intake: twelve requests in flight at once.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = c.op.client.clone();
        let url = c.op.url("/api/v1/orders");
        let csrf = c.op.csrf.clone();
        let body = order_body(&format!("1390000{i:04}"), "并发受理");
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap()
        }));
    }
    let mut numbers: Vec<String> = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        numbers.push(
            r.json::<Value>().await.unwrap()["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 12);
}

#[tokio::test]
async fn overdue_orders_are_urged_automatically_once() {
    let mut c = Centre::new().await;
    let id = create(&c.op, order_body("13855550000", "超期")).await["id"]
        .as_u64()
        .unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let app = c.app.running.as_ref().unwrap().app.clone();
    assert_eq!(
        hotline::service::orders::actions::urge_overdue(&app).unwrap(),
        0
    );
    // Due soon in the last quarter, then overdue.
    c.advance(7 * 3600 + 30 * 60).await;
    assert_eq!(get(&c.sup, id).await["due"]["state"], "due_soon");
    c.advance(24 * 3600).await;
    let v = get(&c.sup, id).await;
    assert_eq!(v["due"]["state"], "overdue");
    assert!(v["due"]["left"].as_str().unwrap().starts_with("已超期"));
    assert_eq!(
        hotline::service::orders::actions::urge_overdue(&app).unwrap(),
        1
    );
    assert_eq!(
        hotline::service::orders::actions::urge_overdue(&app).unwrap(),
        0
    );
    let v = get(&c.sup, id).await;
    assert_eq!(v["flags"]["urge_count"], 1);
    assert_eq!(
        v["timeline"].as_array().unwrap().last().unwrap()["action"],
        "auto_urge"
    );
    // A manual urge by the supervisor counts too.
    let v = ok(&c.sup, id, "urge", json!({"note": "请尽快签收"})).await;
    assert_eq!(v["flags"]["urge_count"], 2);
    let v = ok(
        &c.sup,
        id,
        "supervise",
        json!({"level": "重点督办", "note": "群众反映强烈"}),
    )
    .await;
    assert_eq!(v["flags"]["supervised"], "重点督办");
}

#[tokio::test]
async fn caller_privacy_per_role_confidential_and_reveal() {
    let c = Centre::new().await;
    let mut b = order_body("13866667777", "投诉");
    b["kind"] = json!("complaint");
    b["caller"]["id_number"] = json!("430424199001011232");
    b["caller"]["consent_phone"] = json!(true);
    let id = create(&c.op, b).await["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let op = get(&c.op, id).await;
    assert_eq!(op["caller"]["phone"], "13866667777");
    assert_eq!(op["caller"]["id_number"], "4304**********1232");
    let sup = get(&c.sup, id).await;
    assert_eq!(sup["caller"]["phone"], "138****7777");
    let unit = get(&c.unit_a, id).await;
    assert_eq!(unit["caller"]["phone"], "13866667777", "consent given");
    assert_eq!(unit["caller"]["name"], "张*");
    assert_eq!(unit["caller"]["id_number"], Value::Null);
    assert_eq!(unit["query_code"], Value::Null);
    // Revealing needs a reason; it is logged and audited.
    let r =
        c.op.post(
            &format!("/api/v1/orders/{id}/reveal"),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r =
        c.op.post(
            &format!("/api/v1/orders/{id}/reveal"),
            json!({"reason": "核实举报人身份"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["id_number"],
        "430424199001011232"
    );
    assert_eq!(
        c.unit_a
            .post(
                &format!("/api/v1/orders/{id}/reveal"),
                json!({"reason": "想知道"})
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let views: Value = c
        .sup
        .get(&format!("/api/v1/orders/{id}/views"))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = views["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"reveal") && kinds.contains(&"view"));
    assert_eq!(
        c.op.get(&format!("/api/v1/orders/{id}/views"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // A confidential order hides the caller from the unit entirely.
    let mut b = order_body("13866668888", "保密件");
    b["confidential"] = json!(true);
    b["caller"]["consent_phone"] = json!(true);
    let id = create(&c.op, b).await["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let unit = get(&c.unit_a, id).await;
    assert_eq!(unit["caller"]["hidden"], true);
    assert_eq!(unit["caller"]["name"], Value::Null);
    assert_eq!(unit["caller"]["phone"], Value::Null);
}

#[tokio::test]
async fn lists_filter_and_units_see_only_their_own() {
    let c = Centre::new().await;
    for i in 0..3 {
        let id = create(
            &c.op,
            order_body(&format!("1387777000{i}"), &format!("列表{i}")),
        )
        .await["id"]
            .as_u64()
            .unwrap();
        if i < 2 {
            ok(
                &c.op,
                id,
                "dispatch",
                json!({"unit": if i == 0 { "u-clerk-a" } else { "u-clerk-b" }}),
            )
            .await;
        }
    }
    let all: Value = c.op.get("/api/v1/orders").await.json().await.unwrap();
    assert_eq!(all["total"], 3);
    let reg: Value =
        c.op.get("/api/v1/orders?state=registered")
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(reg["total"], 1);
    let mine: Value = c.unit_a.get("/api/v1/orders").await.json().await.unwrap();
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["title"], "列表0");
    // Asking for another unit's orders still shows only one's own.
    let sneaky: Value = c
        .unit_a
        .get("/api/v1/orders?unit=u-clerk-b")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sneaky["total"], 1);
    assert_eq!(sneaky["items"][0]["title"], "列表0");
    let by_phone: Value =
        c.op.get("/api/v1/orders?phone=13877770001")
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(by_phone["total"], 1);
    let q: Value =
        c.op.get("/api/v1/orders?q=%E5%88%97%E8%A1%A82")
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(q["total"], 1);
    let paged: Value =
        c.op.get("/api/v1/orders?per_page=2&page=2")
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged["total"], 3);
    assert_eq!(
        c.op.get("/api/v1/orders?state=bogus").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        c.op.get("/api/v1/orders?from=2026-13-01").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let cats: Value = c
        .unit_a
        .get("/api/v1/categories")
        .await
        .json()
        .await
        .unwrap();
    assert!(cats["total"].as_u64().unwrap() >= 15);
}

/// Issue 11, point 3: the top bar's counters — each role's queues, counted from the index,
/// polled by the page without keeping an unattended session alive; nothing for a platform.
#[tokio::test]
async fn top_bar_counters_count_each_roles_queues_and_do_not_keep_a_session_alive() {
    let c = Centre::new().await;
    let counts = |s: &crate::helpers::Session| {
        let s = s.clone();
        async move {
            let r = s.get("/api/v1/me/counters").await;
            assert_eq!(r.status(), StatusCode::OK);
            let v: Value = r.json().await.unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["key"].as_str().unwrap().to_string(),
                        i["count"].as_u64().unwrap(),
                    )
                })
                .collect::<std::collections::BTreeMap<_, _>>()
        }
    };
    let a = create(&c.op, order_body("13700001111", "路灯不亮")).await["id"]
        .as_u64()
        .unwrap();
    create(&c.op, order_body("13700001112", "占道经营")).await;
    assert_eq!(counts(&c.op).await["to_dispatch"], 2);
    ok(&c.op, a, "dispatch", json!({"unit": "u-clerk-a"})).await;
    assert_eq!(counts(&c.op).await["to_dispatch"], 1);
    let lead = counts(&c.lead).await;
    assert_eq!((lead["to_dispatch"], lead["reply_review"]), (1, 0));
    let unit = counts(&c.unit_a).await;
    assert_eq!((unit["to_sign"], unit["in_progress"]), (1, 0));
    assert_eq!(counts(&c.unit_b).await["to_sign"], 0);
    // A unit's lists show when the order was dispatched to it, the staff's when registered.
    let home = c.unit_a.get("/").await.text().await.unwrap();
    assert!(home.contains("<th>派单时间</th>"), "{home}");
    let home = c.op.get("/").await.text().await.unwrap();
    assert!(home.contains("<th>登记时间</th>"), "{home}");
    assert_eq!(counts(&c.qa).await["callback"], 0);
    assert!(counts(&c.sup).await.contains_key("overdue"));

    // Polling is not activity: 25 minutes of counters, then 10 more, and the 30-minute idle
    // limit has passed since the person last did anything.
    c.app.clock.advance_secs(25 * 60);
    assert_eq!(
        c.op.get("/api/v1/me/counters").await.status(),
        StatusCode::OK
    );
    c.app.clock.advance_secs(10 * 60);
    assert_eq!(
        c.op.get("/api/v1/me/counters").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // …while a person's request does keep it alive.
    let op = c.app.login("op1", crate::helpers::NEW_PASSWORD).await;
    c.app.clock.advance_secs(25 * 60);
    assert_eq!(op.get("/api/v1/orders").await.status(), StatusCode::OK);
    c.app.clock.advance_secs(10 * 60);
    assert_eq!(op.get("/api/v1/me/counters").await.status(), StatusCode::OK);
}

/// Issue 11, point 3: a unit's 临期 and 超期 — counters in the top bar and lists on its home,
/// the longest late first.
#[tokio::test]
async fn a_unit_sees_its_due_soon_and_overdue_work() {
    let mut c = Centre::new().await;
    let a = create(&c.op, order_body("13700002221", "路灯不亮")).await["id"]
        .as_u64()
        .unwrap();
    ok(&c.op, a, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let counts = |s: crate::helpers::Session| async move {
        let v: Value = s.get("/api/v1/me/counters").await.json().await.unwrap();
        let item = |k: &str| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["key"] == k)
                .map(|i| i["count"].as_u64().unwrap())
        };
        (item("due_soon"), item("overdue"))
    };
    assert_eq!(counts(c.unit_a.clone()).await, (Some(0), Some(0)));
    // Registered Monday 09:00 with a day to sign: by the night it is in its last quarter.
    c.advance(14 * 3600).await;
    let o: Value =
        c.op.get(&format!("/api/v1/orders/{a}"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(o["due"]["state"], "due_soon", "{}", o["due"]);
    assert_eq!(counts(c.unit_a.clone()).await, (Some(1), Some(0)));
    assert_eq!(counts(c.unit_b.clone()).await, (Some(0), Some(0)));
    let home = c.unit_a.get("/").await.text().await.unwrap();
    assert_eq!(tile(&home, "due_soon"), "1", "the 临期 figure");
    assert_eq!(tile(&home, "overdue"), "0");
    // Next noon it is late.
    c.advance(15 * 3600).await;
    assert_eq!(counts(c.unit_a.clone()).await, (Some(0), Some(1)));
    let home = c.unit_a.get("/").await.text().await.unwrap();
    assert_eq!(tile(&home, "overdue"), "1", "the 超期 figure");
    // The late order heads its deadline list, marked late.
    let to_sign = home.split(r##"id="q-to_sign""##).nth(1).unwrap();
    assert!(
        to_sign.contains("路灯不亮") && to_sign.contains("已超期"),
        "{to_sign}"
    );
}

/// The value of a home page figure (`tile-KEY`).
fn tile(html: &str, key: &str) -> String {
    let rest = &html[html.find(&format!("id=\"tile-{key}\"")).expect(key)..];
    let v = rest.find("tile-value\">").unwrap() + "tile-value\">".len();
    rest[v..v + rest[v..].find('<').unwrap()].to_string()
}

/// Issue 11, point 3: queues lead by deadline — the supervisor's overdue list puts the longest
/// late first and shows how late; the 时限 header turns any deadline queue round.
#[tokio::test]
async fn overdue_work_is_listed_by_lateness_and_queues_sort_by_deadline() {
    let mut c = Centre::new().await;
    let first = create(&c.op, order_body("13700003331", "最早派出的路灯")).await["id"]
        .as_u64()
        .unwrap();
    ok(&c.op, first, "dispatch", json!({"unit": "u-clerk-a"})).await;
    c.advance(3 * 3600).await;
    let second = create(&c.op, order_body("13700003332", "后来派出的井盖")).await["id"]
        .as_u64()
        .unwrap();
    ok(&c.op, second, "dispatch", json!({"unit": "u-clerk-b"})).await;
    c.advance(3 * 86_400).await;
    let late = |html: String| {
        let part = html
            .split(r##"id="q-overdue""##)
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap()
            .to_string();
        let a = part.find("最早派出的路灯").expect("first listed");
        let b = part.find("后来派出的井盖").expect("second listed");
        (a < b, part)
    };
    let (longest_first, part) = late(c.sup.get("/").await.text().await.unwrap());
    assert!(longest_first, "the longest late first");
    assert!(part.contains("超期"), "{part}");
    assert!(
        part.contains(r##"href="/?sort=due_desc#q-overdue""##),
        "{part}"
    );
    let (longest_first, _) = late(c.sup.get("/?sort=due_desc").await.text().await.unwrap());
    assert!(!longest_first, "turned round");
    // The shift lead's queues turn the same way.
    for (i, t) in ["待派单甲", "待派单乙"].iter().enumerate() {
        create(&c.op, order_body(&format!("1370000334{i}"), t)).await;
        c.advance(60).await;
    }
    let html = c.lead.get("/?sort=due_desc").await.text().await.unwrap();
    let part = html.split(r##"id="q-to_dispatch""##).nth(1).unwrap();
    assert!(part.find("待派单乙").unwrap() < part.find("待派单甲").unwrap());
    let html = c.lead.get("/").await.text().await.unwrap();
    let part = html.split(r##"id="q-to_dispatch""##).nth(1).unwrap();
    assert!(part.find("待派单甲").unwrap() < part.find("待派单乙").unwrap());
}
