//! The admin's rules: the work calendar and time limits change deadlines without a release.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, create, ok, order_body};

#[tokio::test]
async fn calendar_and_limits_drive_deadlines() {
    let c = Centre::new().await;
    // In November with 2027 missing, the admin is warned.
    let home = c.admin.get("/").await.text().await.unwrap();
    assert!(
        home.contains("尚未录入 2027 年"),
        "the admin is warned about next year"
    );
    let put = |year: &str, body: Value| {
        c.admin
            .client
            .put(c.admin.url(&format!("/api/v1/admin/calendar/{year}")))
            .header("x-csrf-token", &c.admin.csrf)
            .json(&body)
            .send()
    };
    let r = put("2027", json!({"holidays": ["2026-12-31"], "workdays": []}))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a date outside the year"
    );
    let r = put(
        "2027",
        json!({"holidays": ["2027-01-01", "2027-01-02"], "workdays": ["2027-01-09"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let home = c.admin.get("/").await.text().await.unwrap();
    assert!(!home.contains("尚未录入 2027 年"));
    let cal: Value = c
        .admin
        .get("/api/v1/admin/calendar")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        cal["years"]["2027"]["workdays"]
            .as_array()
            .unwrap()
            .contains(&json!("2027-01-09"))
    );

    // Tuesday 1 December made a day off on the year page: a Monday dispatch skips it.
    let page = c
        .admin
        .get("/admin/calendar?year=2026")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("d2026-12-01"));
    let r = c
        .admin
        .form("/admin/calendar/toggle", &[("date", "2026-12-01")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = create(&c.op, order_body("13612340000", "日历")).await["id"]
        .as_u64()
        .unwrap();
    let v = ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    assert_eq!(v["rounds"][0]["sign_due"], "2026-12-02T09:00:00+08:00");
    // Toggled back, it is a working day again.
    c.admin
        .form("/admin/calendar/toggle", &[("date", "2026-12-01")])
        .await;
    assert_eq!(
        c.admin
            .form("/admin/calendar/toggle", &[("date", "2026-13-01")])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Limits: two working days to sign.
    let lim: Value = c
        .admin
        .get("/api/v1/admin/limits")
        .await
        .json()
        .await
        .unwrap();
    let mut l = lim["limits"].clone();
    l["sign_normal"] = json!({"unit": "working_days", "value": 2});
    let put_limits = |body: Value| {
        c.admin
            .client
            .put(c.admin.url("/api/v1/admin/limits"))
            .header("x-csrf-token", &c.admin.csrf)
            .json(&body)
            .send()
    };
    let mut bad = l.clone();
    bad["max_extension_days"] = json!(0);
    assert_eq!(
        put_limits(json!({"limits": bad})).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        put_limits(json!({"limits": l})).await.unwrap().status(),
        StatusCode::OK
    );
    let id = create(&c.op, order_body("13612340001", "时限")).await["id"]
        .as_u64()
        .unwrap();
    let v = ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    assert_eq!(v["rounds"][0]["sign_due"], "2026-12-02T09:00:00+08:00");
    // Only the admin edits rules.
    assert_eq!(
        c.lead.get("/api/v1/admin/limits").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.sup
            .form("/admin/calendar/toggle", &[("date", "2026-12-03")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The limits page round-trips and refuses nonsense.
    let page = c.admin.get("/admin/limits").await.text().await.unwrap();
    assert!(page.contains("name=\"sign_normal_days\" value=\"2\""));
    // The limits in force as a table: kind × urgency × line, the saved signing limit in it.
    assert!(page.contains("现行时限一览"), "{page}");
    for head in ["人大专席", "政企通专席", "特急", "投诉", "表扬"] {
        assert!(page.contains(head), "{head}");
    }
    assert!(page.contains("签收 2 个工作日"), "{page}");
    let r = c
        .admin
        .form("/admin/limits", &[("sign_critical_min", "abc")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请填写整数"));
}

#[tokio::test]
async fn emergency_words_scripts_and_categories_are_the_offices_to_edit() {
    let c = Centre::new().await;
    let s: Value = c
        .admin
        .get("/api/v1/admin/screening")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["exclusion_scripts"].as_object().unwrap().len(), 10);
    // A new emergency word, a bad number refused, a script rewritten.
    let r = c
        .admin
        .form(
            "/admin/screening",
            &[("words", "塌方 999"), ("script_1", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .admin
        .form(
            "/admin/screening",
            &[
                ("words", "起火 119\n塌方 119"),
                ("script_1", "请向事发地热线反映。"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut b = order_body("13412340000", "山体");
    b["content"] = json!("屋后山体塌方了");
    let v = create(&c.op, b).await;
    let e = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "emergency")
        .cloned();
    assert_eq!(e.unwrap()["numbers"], json!(["119"]));
    let page = c.op.get("/orders/new").await.text().await.unwrap();
    assert!(
        page.contains("请向事发地热线反映。"),
        "the intake page reads the office's script"
    );
    // Categories: a third level, but not a fourth; renaming keeps the code.
    let r = c
        .admin
        .post(
            "/api/v1/categories",
            json!({"code": "100101", "name": "早市占道", "parent": "1001"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .admin
        .post(
            "/api/v1/categories",
            json!({"code": "10010101", "name": "太深", "parent": "100101"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .admin
        .form(
            "/admin/categories",
            &[
                ("code", "100101"),
                ("name", "早市夜市占道"),
                ("parent", "1001"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cats: Value = c.op.get("/api/v1/categories").await.json().await.unwrap();
    let found = cats["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "100101")
        .cloned()
        .unwrap();
    assert_eq!(found["name"], "早市夜市占道");
    let mut b = order_body("13412340001", "三级分类");
    b["category"] = json!("100101");
    let id = create(&c.op, b).await["id"].as_u64().unwrap();
    let o = crate::orders::get(&c.op, id).await;
    assert_eq!(o["category_path"], "城市管理 / 占道经营 / 早市夜市占道");
    assert_eq!(
        c.op.post("/api/v1/categories", json!({"code": "99", "name": "x"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

/// Issue 8, point 8: the rules are right, with cases the other tests do not know.
#[tokio::test]
async fn the_rules_are_right() {
    use crate::orders::{act, create, get, ok, order_body};
    let mut c = Centre::new().await;
    let invalid = |field: &'static str| move |v: Value| v["error"]["field"] == field;
    // Identity numbers: impossible or future birth dates, all-zero or unknown regions.
    for id in [
        "430424199002301235", // 30 February
        "430424203001011234", // born in 2030
        "000000199001011234", // all-zero region
        "990424199001011234", // no such province
    ] {
        let mut b = order_body("13912340000", "投诉");
        b["kind"] = json!("complaint");
        b["caller"]["id_number"] = json!(id);
        let r = c.op.post("/api/v1/orders", b).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{id}");
        assert!(invalid("caller.id_number")(r.json().await.unwrap()), "{id}");
    }
    // Phones as people and platforms write them are normalised; all-zero ones refused.
    for raw in [
        "0086 139 1234 5678",
        "+86-139-1234-5678",
        "8613912345678",
        "１３９１２３４５６７８",
    ] {
        let o = create(&c.op, order_body(raw, "路灯")).await;
        let v = get(&c.op, o["id"].as_u64().unwrap()).await;
        assert_eq!(v["caller"]["phone"], "13912345678", "{raw}");
    }
    for raw in ["00000000000", "0734-0000000", "+86"] {
        let r = c.op.post("/api/v1/orders", order_body(raw, "路灯")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{raw}");
    }
    // An all-zero credit code is refused.
    let mut b = order_body("13912340000", "企业诉求");
    b["line"] = json!("enterprise");
    b["enterprise"] = json!({"name": "某公司", "credit_code": "000000000000000000"});
    let r = c.op.post("/api/v1/orders", b).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Calendar days are real dates, normalised.
    let put = |body: Value| {
        c.admin
            .client
            .put(c.admin.url("/api/v1/admin/calendar/2027"))
            .header("x-csrf-token", &c.admin.csrf)
            .json(&body)
            .send()
    };
    let r = put(json!({"holidays": ["2027-02-30"], "workdays": []}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = put(json!({"holidays": ["2027-1-1"], "workdays": []}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cal: Value = c
        .admin
        .get("/api/v1/admin/calendar")
        .await
        .json()
        .await
        .unwrap();
    assert!(cal.to_string().contains("2027-01-01") && !cal.to_string().contains("2027-1-1"));
    // The number prefix is 1–8 ASCII capitals.
    let mut s: Value = c.admin.get("/api/v1/settings").await.json().await.unwrap();
    for bad in ["hd", "H1", "衡东", "ABCDEFGHI", ""] {
        s["number_prefix"] = json!(bad);
        let r = c
            .admin
            .client
            .put(c.admin.url("/api/v1/settings"))
            .header("x-csrf-token", &c.admin.csrf)
            .json(&s)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }

    // Rejections: code 3 names the emergency number; every one records what was told.
    let o = create(&c.op, order_body("13912340001", "楼下冒烟")).await;
    let id = o["id"].as_u64().unwrap();
    let r = act(
        &c.op,
        id,
        "reject",
        json!({"reason_code": 3, "note": "已告知"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v = ok(
        &c.op,
        id,
        "reject",
        json!({"reason_code": 3, "transferred_to": "119"}),
    )
    .await;
    assert_eq!(v["reject_transfer"], "119");
    assert!(v["reject_told"].as_str().unwrap().contains("119"));
    let o = create(&c.op, order_body("13912340002", "外县的事")).await;
    let v = ok(
        &c.op,
        o["id"].as_u64().unwrap(),
        "reject",
        json!({"reason_code": 1, "note": "请向祁东县 12345 反映"}),
    )
    .await;
    let told = v["reject_told"].as_str().unwrap();
    assert!(told.contains("管辖") && told.contains("祁东县"), "{told}");
    // Emergency words count in the title, and the fuller list knows 触电 and 喝农药.
    for (title, number) in [("家里失火了", "119"), ("邻居喝农药", "120")] {
        let mut b = order_body("13912340003", title);
        b["content"] = json!("请尽快处理。");
        let o = create(&c.op, b).await;
        let w = o["warnings"].as_array().unwrap();
        assert!(
            w.iter()
                .any(|w| w["code"] == "emergency" && w["numbers"].to_string().contains(number)),
            "{title}: {w:?}"
        );
    }

    // Extensions: capped per round, never past the platform's deadline, and a pending one
    // ends with the round.
    let mut b = order_body("13912340004", "平台件");
    b["channel"] = json!("city_12345");
    b["external_id"] = json!("SZ-77");
    b["external_due"] = json!("2026-12-09");
    let o = create(&c.op, b).await;
    let id = o["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, id, "sign", json!({})).await;
    ok(
        &c.unit_a,
        id,
        "request_extension",
        json!({"days": 10, "reason": "需协调多部门"}),
    )
    .await;
    let v = ok(&c.lead, id, "decide_extension", json!({"approve": true})).await;
    assert_eq!(
        v["rounds"][0]["handle_due"], "2026-12-09T23:59:59+08:00",
        "bounded by the platform's deadline"
    );
    let r = act(
        &c.unit_a,
        id,
        "request_extension",
        json!({"days": 1, "reason": "再延"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(crate::helpers::error_code(r).await, "platform_deadline");

    let o = create(&c.op, order_body("13912340005", "井盖缺失")).await;
    let id = o["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, id, "sign", json!({})).await;
    ok(
        &c.unit_a,
        id,
        "request_extension",
        json!({"days": 2, "reason": "等材料"}),
    )
    .await;
    ok(
        &c.lead,
        id,
        "decide_extension",
        json!({"approve": false, "note": "请按期办结"}),
    )
    .await;
    ok(
        &c.unit_a,
        id,
        "request_extension",
        json!({"days": 1, "reason": "确需延期"}),
    )
    .await;
    // The pending request ends with the reply; sent back, it does not come alive again.
    ok(
        &c.unit_a,
        id,
        "reply",
        json!({"result": "已组织人员补装井盖并设置警示。", "resolved": "yes", "contacted": true}),
    )
    .await;
    let v = ok(
        &c.lead,
        id,
        "review_reply",
        json!({"approve": false, "note": "请附照片"}),
    )
    .await;
    assert_eq!(v["state"], "in_progress");
    assert_eq!(v["rounds"][0]["extensions"][1]["approved"], false);
    let r = act(&c.sup, id, "decide_extension", json!({"approve": true})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Two requests were made in this round: a third is refused (the default cap is 2).
    let r = act(
        &c.unit_a,
        id,
        "request_extension",
        json!({"days": 1, "reason": "第三次"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(crate::helpers::error_code(r).await, "extension_limit");
    let v = get(&c.unit_a, id).await;
    assert!(!v["actions"].to_string().contains("request_extension"));

    // 退单 is not offered after its window (2 working days after dispatch).
    let o = create(&c.op, order_body("13912340006", "噪音扰民")).await;
    let id = o["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let v = get(&c.unit_a, id).await;
    assert!(v["actions"].to_string().contains("\"return\""));
    c.advance(4 * 86400).await;
    let v = get(&c.unit_a, id).await;
    assert!(
        !v["actions"].to_string().contains("\"return\""),
        "{}",
        v["actions"]
    );
    let r = act(&c.unit_a, id, "return", json!({"reason": "不属于本单位"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(crate::helpers::error_code(r).await, "return_window_passed");
}
