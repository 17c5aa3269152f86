//! Issue 8, point 1: callers stay hidden from units. Every field of every order view is
//! checked against what SPEC §3 grants each role, and the caller's data is looked for in
//! every answer a unit gets (API, pages, lists, search), so a new field or a new path that
//! leaks fails here.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Session, urlenc};
use crate::orders::{Centre, act, create, get, ok};

const NAME: &str = "欧阳小明";
const PHONE: &str = "13912345678";
const ID: &str = "430424199001011232";
const FIRM: &str = "衡东县示例科技有限公司";
const CREDIT: &str = "91350100M000100Y43";
const DEPUTY: &str = "李代表名";
const QA_NOTE: &str = "QA内部记录：来电人情绪激动";
const B_WORK: &str = "乙单位的办理过程不应给甲单位看";

/// Every leaf path with a value (`a.b[].c`); nulls, empty strings and empty lists are absent.
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        Value::String(s) if s.is_empty() => {}
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

/// What SPEC §3 grants, per audience, as path prefixes.
const COMMON: &[&str] = &[
    "id",
    "number",
    "version",
    "state",
    "state_label",
    "channel",
    "channel_label",
    "external_due",
    "line",
    "line_label",
    "kind",
    "kind_label",
    "urgency",
    "urgency_label",
    "category",
    "category_path",
    "title",
    "content",
    "confidential",
    "address.town",
    "address.village",
    "address.detail",
    "risk_tags[]",
    "rounds[].",
    "timeline[].at",
    "timeline[].at_display",
    "timeline[].user",
    "timeline[].role",
    "timeline[].action",
    "timeline[].note",
    // The parameters of the entries a unit sees (its own rounds' work and decisions).
    "timeline[].p.unit.",
    "timeline[].p.co_units[].",
    "timeline[].p.round",
    "timeline[].p.due",
    "timeline[].p.days",
    "timeline[].p.approve",
    "timeline[].p.resolved",
    "timeline[].p.count",
    "timeline[].p.level",
    "timeline[].p.stage",
    "timeline[].p.on_behalf",
    "timeline[].p.capped",
    "timeline[].p.file",
    "flags.supervised",
    "flags.reopen_count",
    "flags.urge_count",
    "flags.repeat_calls",
    "created_at",
    "created_display",
    "updated_at",
    "closed_at",
    "due.",
    "actions[]",
    "attachments[].",
    "caller.hidden",
    "caller.phone_masked",
    "caller.consent_phone",
];
const STAFF: &[&str] = &[
    "query_code",
    // Registration, screening, merging and callbacks: the centre's own entries.
    "timeline[].p.kind",
    "timeline[].p.channel",
    "timeline[].p.satisfaction",
    "timeline[].p.reason_code",
    "timeline[].p.transfer",
    "timeline[].p.order",
    "timeline[].p.sample",
    "external_id",
    "caller.name",
    "caller.phone",
    "caller.id_number",
    "caller.gender",
    "caller.type",
    "enterprise.",
    "deputy.",
    "callbacks[].",
    "flags.merged_into",
    "flags.merged_from[]",
    "flags.callback_pending",
    "flags.reopen_proposal.",
    "merged_reply",
    "reject_code",
    "reject_transfer",
    "reject_told",
    "answer",
    "cited[]",
    "closure",
    "callback_attempts",
];
/// A unit: the caller masked (checked by value below), no internal fields.
const UNIT: &[&str] = &[
    "caller.name",
    "caller.phone",
    "caller.gender",
    "caller.type",
    "enterprise.",
    "deputy.",
    "part_ended",
];
const PLATFORM: &[&str] = &[
    "id",
    "number",
    "query_code",
    "state",
    "state_label",
    "channel",
    "external_id",
    "kind",
    "title",
    "created_at",
    "closed_at",
    "public_reply",
    "reject_code",
    "events[].at",
    "events[].action",
];

fn granted(path: &str, grants: &[&[&str]]) -> bool {
    grants.iter().flat_map(|g| g.iter()).any(|g| {
        if g.ends_with('.') {
            path.starts_with(g)
        } else {
            path == *g
        }
    })
}

fn assert_fields(who: &str, view: &Value, grants: &[&[&str]]) {
    let mut found = BTreeSet::new();
    paths(view, "", &mut found);
    let extra: Vec<&String> = found.iter().filter(|p| !granted(p, grants)).collect();
    assert!(
        extra.is_empty(),
        "{who} is shown fields SPEC §3 does not grant: {extra:?}"
    );
}

fn assert_absent(who: &str, body: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!body.contains(s), "{who} was shown {s:?}");
    }
}

async fn text(s: &Session, path: &str) -> (StatusCode, String) {
    let r = s.get(path).await;
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn callers_stay_hidden_from_units() {
    let c = Centre::new().await;
    // An enterprise-line order whose content repeats the caller's name and number.
    let firm = create(
        &c.op,
        json!({
            "channel": "phone", "line": "enterprise", "kind": "complaint", "urgency": "normal",
            "title": "企业用电报装迟迟不办",
            "content": format!("我是{NAME}，电话{PHONE}，身份证{ID}，企业报装已两个月无人处理。"),
            "caller": {"name": NAME, "phone": PHONE, "id_number": ID, "gender": "male",
                       "consent_phone": false, "type": "企业"},
            "enterprise": {"name": FIRM, "credit_code": CREDIT},
            "address": {"town": "洣水镇", "village": "建设社区", "detail": "工业园 3 号"},
            "risk_tags": ["public_opinion"]
        }),
    )
    .await;
    let firm_id = firm["id"].as_u64().unwrap();
    // A confidential NPC-line order; the caller even consented to show the number.
    let npc = create(
        &c.op,
        json!({
            "channel": "phone", "line": "npc", "kind": "suggestion", "urgency": "normal",
            "title": "建议增设公交站", "content": format!("代表{DEPUTY}转达群众建议，联系电话{PHONE}。"),
            "caller": {"name": NAME, "phone": PHONE, "consent_phone": true},
            "deputy": {"name": DEPUTY, "level": "县级"}, "confidential": true
        }),
    )
    .await;
    let npc_id = npc["id"].as_u64().unwrap();
    for id in [firm_id, npc_id] {
        ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
        ok(&c.unit_a, id, "sign", json!({})).await;
        ok(
            &c.unit_a,
            id,
            "progress",
            json!({"note": "已联系企业了解情况"}),
        )
        .await;
        ok(
            &c.unit_a,
            id,
            "reply",
            json!({"result": "已安排供电所上门办理报装，三日内通电。", "resolved": "yes",
                   "contacted": true, "public_reply": "已办理。"}),
        )
        .await;
        ok(&c.lead, id, "review_reply", json!({"approve": true})).await;
        ok(
            &c.qa,
            id,
            "callback",
            json!({"satisfaction": "unsatisfied", "resolved": "partly", "note": QA_NOTE}),
        )
        .await;
    }

    // Every field of every role's view is one SPEC §3 grants.
    let staff: [(&str, &Session); 5] = [
        ("operator", &c.op),
        ("shift_lead", &c.lead),
        ("qa", &c.qa),
        ("supervisor", &c.sup),
        ("admin", &c.admin),
    ];
    for id in [firm_id, npc_id] {
        for (who, s) in staff {
            let v = get(s, id).await;
            assert_fields(who, &v, &[COMMON, STAFF]);
            // Nobody on the staff reads the identity number in full, not even in the text.
            assert_absent(who, &v.to_string(), &[ID]);
        }
        let v = get(&c.unit_a, id).await;
        assert_fields("unit", &v, &[COMMON, UNIT]);
        assert_absent("unit", &v.to_string(), &[NAME, PHONE, ID, QA_NOTE]);
        assert!(
            v["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["action"] != "callback"),
            "callbacks never reach a unit's timeline"
        );
    }
    // Supervisor and admin see the number masked, in the text too.
    for s in [&c.sup, &c.admin] {
        assert_absent(
            "supervisor/admin",
            &get(s, firm_id).await.to_string(),
            &[PHONE],
        );
    }
    let v = get(&c.unit_a, firm_id).await;
    assert_eq!(v["caller"]["name"], "欧***");
    assert!(v["caller"].get("phone").is_none(), "no consent, no number");
    assert_eq!(
        v["enterprise"]["name"], FIRM,
        "an open order names the firm"
    );
    let v = get(&c.unit_a, npc_id).await;
    assert_eq!(v["caller"]["hidden"], true);
    assert!(v.get("deputy").is_none() && v.get("enterprise").is_none());
    assert_absent(
        "unit (confidential)",
        &v.to_string(),
        &[DEPUTY, NAME, PHONE],
    );
    // The same on the pages a unit opens: the order, the print, the home, the list.
    for path in [
        format!("/orders/{firm_id}"),
        format!("/orders/{npc_id}"),
        "/".to_string(),
        "/orders".to_string(),
    ] {
        let (status, body) = text(&c.unit_a, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_absent(
            &format!("unit page {path}"),
            &body,
            &[NAME, PHONE, ID, QA_NOTE, DEPUTY],
        );
    }

    // No caller filter or search for a unit: a guessed number confirms nothing.
    let r = c.unit_a.get(&format!("/api/v1/orders?phone={PHONE}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.unit_a.get(&format!("/orders?phone={PHONE}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    for q in [PHONE, "5678", "12345678", NAME, "欧阳", FIRM, DEPUTY] {
        let v: Value = c
            .unit_a
            .get(&format!("/api/v1/orders?q={}", urlenc(q)))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["total"], 0, "unit search for {q:?} must find nothing");
        let (_, body) = text(&c.unit_a, &format!("/orders?q={}", urlenc(q))).await;
        assert!(body.contains("共 0 件"), "page search for {q:?}");
    }
    // The words of the matter still find the order.
    let v: Value = c
        .unit_a
        .get(&format!("/api/v1/orders?q={}", urlenc("报装")))
        .await
        .json()
        .await
        .unwrap();
    assert!(v["total"].as_u64().unwrap() >= 1);
    // Staff still find the caller by number, from the box and the filter.
    let v: Value =
        c.op.get(&format!("/api/v1/orders?phone={PHONE}"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(v["total"], 2);
    // List items obey the same grants.
    for item in v["items"].as_array().unwrap() {
        assert_fields("operator list", item, &[COMMON, STAFF]);
    }
    let v: Value = c.unit_a.get("/api/v1/orders").await.json().await.unwrap();
    for item in v["items"].as_array().unwrap() {
        assert_fields("unit list", item, &[COMMON, UNIT]);
        assert_absent("unit list", &item.to_string(), &[NAME, PHONE, ID, QA_NOTE]);
    }
}

#[tokio::test]
async fn a_unit_reads_only_its_own_part_after_a_return_or_redispatch() {
    let c = Centre::new().await;
    let o = create(&c.op, crate::orders::order_body(PHONE, "路灯不亮")).await;
    let id = o["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(
        &c.unit_a,
        id,
        "return",
        json!({"reason": "不属于本单位职责", "basis": "三定方案"}),
    )
    .await;
    ok(&c.lead, id, "decide_return", json!({"approve": true})).await;
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-b"})).await;
    ok(&c.unit_b, id, "sign", json!({})).await;
    ok(&c.unit_b, id, "progress", json!({"note": B_WORK})).await;

    // A still reads its own round, and nothing of B's.
    let v = get(&c.unit_a, id).await;
    assert_eq!(v["part_ended"], true);
    assert_eq!(v["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(v["rounds"][0]["unit"]["code"], "u-clerk-a");
    assert!(v.get("due").is_none() && v["actions"].as_array().unwrap().is_empty());
    assert_absent("unit a", &v.to_string(), &[B_WORK, "u-clerk-b"]);
    let (_, page) = text(&c.unit_a, &format!("/orders/{id}")).await;
    assert_absent("unit a page", &page, &[B_WORK, "u-clerk-b 单位"]);
    assert!(page.contains("本单位在此工单上的办理已结束"));
    // It stays in A's done list, and A can no longer act on it.
    let (_, home) = text(&c.unit_a, "/").await;
    assert!(home.contains("已办结或已移交") && home.contains(o["number"].as_str().unwrap()));
    let r = act(&c.unit_a, id, "progress", json!({"note": "还想写点什么"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // B reads its own round (and the registration), not A's return.
    let v = get(&c.unit_b, id).await;
    assert_eq!(v["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(v["rounds"][0]["unit"]["code"], "u-clerk-b");
    assert_absent("unit b", &v.to_string(), &["不属于本单位职责"]);
    // A unit that never held the order cannot read it at all.
    let other = create(&c.op, crate::orders::order_body("13700001111", "井盖缺失")).await;
    let r = c
        .unit_a
        .get(&format!("/api/v1/orders/{}", other["id"]))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn platform_tokens_get_a_platform_view() {
    let c = Centre::new().await;
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "省长信箱对接", "channel": "governor_mailbox"}),
        )
        .await;
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = crate::orders::order_body(PHONE, "平台来信");
    body["channel"] = json!("governor_mailbox");
    body["external_id"] = json!("SZ-0009");
    let client = c.app.client();
    let r = client
        .post(c.app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    ok(
        &c.op,
        id,
        "answer",
        json!({"reply": "已转告市场监管所处理。操作员内部备注不应外传"}),
    )
    .await;
    ok(
        &c.qa,
        id,
        "callback",
        json!({"satisfaction": "satisfied", "note": QA_NOTE}),
    )
    .await;
    for path in [format!("/api/v1/orders/{id}"), "/api/v1/orders".to_string()] {
        let v: Value = client
            .get(c.app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let item = if path.ends_with("orders") {
            v["items"][0].clone()
        } else {
            v
        };
        assert_fields("platform", &item, &[PLATFORM]);
        assert_absent(
            "platform",
            &item.to_string(),
            &[NAME, "张三", PHONE, QA_NOTE],
        );
        assert_eq!(item["state"], "closed");
        assert!(
            item["public_reply"]
                .as_str()
                .unwrap()
                .contains("市场监管所")
        );
    }
}

/// Issue 8, point 2 (the server's half): nothing with caller data may be kept by the
/// browser's cache, and logout tells the browser to drop what the site stored.
#[tokio::test]
async fn pages_with_personal_data_are_no_store_and_logout_clears_the_browser() {
    let c = Centre::new().await;
    let o = create(&c.op, crate::orders::order_body(PHONE, "路灯不亮")).await;
    let id = o["id"].as_u64().unwrap();
    for path in [
        format!("/orders/{id}"),
        format!("/api/v1/orders/{id}"),
        "/orders".to_string(),
        format!("/orders?phone={PHONE}"),
        "/api/v1/orders".to_string(),
        "/orders/new".to_string(),
        "/".to_string(),
        format!("/api/v1/intake/hints?phone={PHONE}"),
        format!("/phones/{PHONE}/record"),
    ] {
        let r = c.op.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    let r =
        c.op.client
            .delete(c.op.url("/api/v1/session"))
            .header("x-csrf-token", &c.op.csrf)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        r.headers()["clear-site-data"]
            .to_str()
            .unwrap()
            .contains("\"storage\"")
    );
    let r = c.lead.form("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["clear-site-data"]
            .to_str()
            .unwrap()
            .contains("\"cache\"")
    );
}

/// Findings of a review done as an attacker with a unit login and a platform token.
#[tokio::test]
async fn what_an_attacker_tried_stays_shut() {
    let c = Centre::new().await;
    // A confidential order whose text names and numbers the caller in odd ways.
    let o = create(
        &c.op,
        json!({
            "channel": "phone", "line": "general", "kind": "complaint", "urgency": "normal",
            "title": "赵大明反映红星机械厂噪音",
            "content": "赵先生说厂里夜间施工，电话 139 1234 5678，身份证 430424 19900101 1232，也可找大明。",
            "caller": {"name": "赵大明", "phone": "13912345678", "id_number": ID, "consent_phone": true},
            "confidential": true, "address": {"town": "洣水镇", "detail": "红星村赵大明家旁"}
        }),
    )
    .await;
    let id = o["id"].as_u64().unwrap();
    // The operator attaches the caller's ID photo, named as such.
    let r = upload(
        &c.op,
        id,
        "赵大明身份证430424199001011232_13912345678.png",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRfake".to_vec(),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let v = get(&c.unit_a, id).await;
    let text = v.to_string();
    for leak in [
        "赵大明",
        "赵先生",
        "大明",
        "1234 5678",
        "5678",
        "19900101",
        "13912345678",
    ] {
        assert!(!text.contains(leak), "unit saw {leak:?} in {text}");
    }
    // The attachment's download name is redacted like the rest.
    let hash = v["attachments"][0]["hash"].as_str().unwrap().to_string();
    let r = c
        .unit_a
        .get(&format!("/orders/{id}/attachments/{hash}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap_or("")
        .to_string();
    let decoded = percent_decode(&disposition);
    for leak in ["赵大明", "13912345678", "430424199001011232"] {
        assert!(!decoded.contains(leak), "download name {decoded}");
    }
    // A note the centre writes between an approved return and the next dispatch, and the
    // next unit's files, are not the returning unit's to read.
    ok(
        &c.unit_a,
        id,
        "return",
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    ok(&c.lead, id, "decide_return", json!({"approve": true})).await;
    ok(
        &c.sup,
        id,
        "supervise",
        json!({"note": "中心内部：优先派给乙单位"}),
    )
    .await;
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-b"})).await;
    let r = upload(&c.unit_b, id, "乙单位现场记录.pdf", b"%PDF-1.4 b".to_vec()).await;
    assert!(r.status().is_success());
    let v = get(&c.unit_a, id).await;
    assert!(!v.to_string().contains("优先派给乙单位"));
    assert!(!v.to_string().contains("乙单位现场记录"));
    let b_file = get(&c.unit_b, id).await["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"].as_str().unwrap().contains("现场记录"))
        .unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .unit_a
        .get(&format!("/orders/{id}/attachments/{b_file}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // And the unit that handed it on can no longer add files to it.
    let r = upload(&c.unit_a, id, "a.pdf", b"%PDF-1.4 a".to_vec()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A deputy's name is masked for a unit like the caller's.
    let npc = create(
        &c.op,
        json!({
            "channel": "phone", "line": "npc", "kind": "suggestion", "urgency": "normal",
            "title": "建议", "content": "建议增设路灯。",
            "caller": {"name": "钱多多", "phone": "13900001234"},
            "deputy": {"name": "钱多多", "level": "县级"}
        }),
    )
    .await;
    let nid = npc["id"].as_u64().unwrap();
    ok(&c.op, nid, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let v = get(&c.unit_a, nid).await;
    assert_eq!(v["deputy"]["name"], "钱**");
    assert!(!v.to_string().contains("钱多多"));

    // A platform token hears nothing of other channels' orders or the blacklist at intake,
    // and its search matches only what it may read.
    c.lead
        .post(
            "/api/v1/blacklist",
            json!({"phone": "13912345678", "reason": "内部：多次辱骂话务员", "review_date": "2027-06-01"}),
        )
        .await;
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "省平台", "channel": "gov_platform"}),
        )
        .await;
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let client = c.app.client();
    let mut body = crate::orders::order_body("13912345678", "红星机械厂噪音扰民");
    body["channel"] = json!("gov_platform");
    body["external_id"] = json!("P-1");
    body["address"] = json!({"town": "洣水镇", "detail": "红星村赵大明家旁"});
    let r = client
        .post(c.app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let w = r.json::<Value>().await.unwrap()["warnings"].to_string();
    for leak in [
        "blacklisted",
        "辱骂",
        "赵大明",
        "噪音\"",
        &format!("\"id\":{id}"),
    ] {
        assert!(!w.contains(leak), "platform warnings carried {leak:?}: {w}");
    }
    let pid = {
        let v: Value = client
            .get(c.app.url("/api/v1/orders"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["items"][0]["id"].as_u64().unwrap()
    };
    ok(&c.op, pid, "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, pid, "sign", json!({})).await;
    ok(
        &c.unit_a,
        pid,
        "reply",
        json!({"result": "内部结果：已约谈厂长暂缓处罚。", "resolved": "yes", "contacted": true,
               "public_reply": "已责令整改。"}),
    )
    .await;
    let v: Value = client
        .get(
            c.app
                .url(&format!("/api/v1/orders?q={}", urlenc("暂缓处罚"))),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["total"], 0,
        "internal text confirms nothing to a platform"
    );
}

async fn upload(s: &Session, id: u64, name: &str, body: Vec<u8>) -> reqwest::Response {
    s.client
        .post(s.url(&format!(
            "/api/v1/orders/{id}/attachments?name={}",
            urlenc(name)
        )))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}
