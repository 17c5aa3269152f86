//! Issue 12, point 5: the duty roster (排班) — the shift lead plans the four seats by week,
//! operators see their shifts and ask to swap, the seat board compares plan and reality, the
//! week prints and exports; deadlines of night intake do not read it.

use hotline::domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{NEW_PASSWORD, Session, USER_PASSWORD};
use crate::orders::{Centre, create, get, ok, order_body};

/// A user with their own display name, password changed.
async fn person(c: &Centre, username: &str, name: &str, role: Role) -> Session {
    let r = c
        .admin
        .post(
            "/api/v1/users",
            json!({"username": username, "display_name": name, "role": role.code(), "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let s = c.app.login(username, USER_PASSWORD).await;
    s.post(
        "/api/v1/session/password",
        json!({"old_password": USER_PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await;
    s
}

fn who(v: &Value, day: u64, slot: u64, seat: u64) -> String {
    v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["day"] == day && c["slot"] == slot && c["seat"] == seat)
        .map(|c| c["user"]["username"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_shift_lead_plans_the_week_operators_see_it_and_swap() {
    let c = Centre::new().await;
    let zhang = person(&c, "zhangli", "张丽", Role::Operator).await;
    let _wang = person(&c, "wangfang", "王芳", Role::Operator).await;

    // The clock stands at Monday 2026-11-30 09:00: week 49, the morning shift.
    let v: Value = c.op.get("/api/v1/roster").await.json().await.unwrap();
    assert_eq!(v["week"], "2026-W49");
    assert_eq!(v["from"], "2026-11-30");
    assert_eq!(v["slots"].as_array().unwrap().len(), 3);
    assert_eq!(v["seats"], 4);

    let plan = json!({"cells": [
        {"day": 0, "slot": 0, "seat": 1, "user": "zhangli"},
        {"day": 0, "slot": 0, "seat": 2, "user": "wangfang"},
        {"day": 0, "slot": 1, "seat": 1, "user": "wangfang"},
        {"day": 1, "slot": 0, "seat": 1, "user": "zhangli"},
        {"day": 1, "slot": 2, "seat": 3, "user": "op1"},
    ], "version": 0});
    // Only the shift lead plans; bad plans are refused whole.
    assert_eq!(
        c.op.put("/api/v1/roster?week=2026-W49", plan.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    for (bad, why) in [
        (
            json!({"cells": [{"day": 0, "slot": 0, "seat": 1, "user": "nobody"}]}),
            "nobody",
        ),
        (
            json!({"cells": [{"day": 0, "slot": 0, "seat": 1, "user": "qa1"}]}),
            "qa1",
        ),
        (
            json!({"cells": [{"day": 7, "slot": 0, "seat": 1, "user": "op1"}]}),
            "格子",
        ),
        (
            json!({"cells": [{"day": 0, "slot": 0, "seat": 5, "user": "op1"}]}),
            "格子",
        ),
        (
            json!({"cells": [{"day": 0, "slot": 0, "seat": 1, "user": "op1"}, {"day": 0, "slot": 0, "seat": 2, "user": "op1"}]}),
            "两个席位",
        ),
        (
            json!({"slots": [{"name": "白班", "start": "08:00", "end": "20:00"}], "cells": []}),
            "一整天",
        ),
    ] {
        let r = c
            .lead
            .put("/api/v1/roster?week=2026-W49", bad.clone())
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let t = r.text().await.unwrap();
        assert!(t.contains(why), "{bad}: {t}");
    }
    assert_eq!(
        c.lead
            .put("/api/v1/roster?week=2026-W54", plan.clone())
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "2026 has 53 weeks"
    );
    let r = c
        .lead
        .put("/api/v1/roster?week=2026-W49", plan.clone())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(who(&v, 0, 0, 1), "zhangli");
    // A second save from the same old page is stale.
    let r = c
        .lead
        .put("/api/v1/roster?week=2026-W49", plan.clone())
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // 张丽 sees her shifts: on duty now, and tomorrow.
    let home = zhang.get("/").await.text().await.unwrap();
    assert!(home.contains("正在值班 早班"), "{home}");
    let page = zhang.get("/roster").await.text().await.unwrap();
    assert!(page.contains("我的班次") && page.contains("张丽") && page.contains("王芳"));
    // The board: 张丽 is planned on seat 1 but not seated; once she takes it, it matches.
    let board = c.lead.get("/").await.text().await.unwrap();
    assert!(board.contains("排班：张丽（未入席）"), "{board}");
    zhang.form("/me/seat", &[("seat", "1")]).await;
    let board = c.lead.get("/").await.text().await.unwrap();
    assert!(board.contains("排班：张丽</small>"), "{board}");
    // 王芳 is planned on seat 2; op1 sits there instead.
    c.op.form("/me/seat", &[("seat", "2")]).await;
    let board = c.lead.get("/").await.text().await.unwrap();
    assert!(board.contains("排班：王芳（与排班不符）"), "{board}");

    // 张丽 asks to swap Tuesday's morning for 王芳's Monday evening; the lead agrees.
    let ask = json!({"week": "2026-W49", "day": 1, "slot": 0, "seat": 1,
                     "with": {"week": "2026-W49", "day": 0, "slot": 1, "seat": 1}, "reason": "周二孩子开家长会"});
    let r = c.op.post("/api/v1/roster/swaps", ask.clone()).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "op1 is not on that shift"
    );
    assert_eq!(
        c.lead
            .post("/api/v1/roster/swaps", ask.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = zhang.post("/api/v1/roster/swaps", ask.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let sid = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    assert_eq!(
        zhang.post("/api/v1/roster/swaps", ask).await.status(),
        StatusCode::CONFLICT,
        "asked once"
    );
    let v: Value = c
        .lead
        .get("/api/v1/roster?week=2026-W49")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["swaps"][0]["state"], "pending");
    assert!(v["swaps"][0]["with"].as_str().unwrap().contains("王芳"));
    assert_eq!(
        zhang
            .post(
                &format!("/api/v1/roster/swaps/{sid}/decide"),
                json!({"approve": true})
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = c
        .lead
        .form(
            &format!("/roster/swaps/{sid}/decide"),
            &[("week", "2026-W49"), ("approve", "1"), ("note", "同意")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v: Value = zhang
        .get("/api/v1/roster?week=2026-W49")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who(&v, 1, 0, 1), "wangfang");
    assert_eq!(who(&v, 0, 1, 1), "zhangli");
    assert_eq!(v["swaps"][0]["state"], "approved");
    let r = c
        .lead
        .post(
            &format!("/api/v1/roster/swaps/{sid}/decide"),
            json!({"approve": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "decided once");
    // A colleague may cover instead (代班), through the page form.
    let r = zhang
        .form(
            "/roster/swaps",
            &[
                ("week", "2026-W49"),
                ("mine", "0_1_1"),
                ("to_user", "op1"),
                ("reason", "临时有事"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Next week from this one; a template for the week after.
    let r = c.lead.form("/roster/copy", &[("week", "2026-W50")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v50: Value = c
        .lead
        .get("/api/v1/roster?week=2026-W50")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who(&v50, 1, 0, 1), "wangfang");
    assert_eq!(v50["from"], "2026-12-07");
    c.lead
        .form(
            "/roster/template",
            &[("week", "2026-W49"), ("name", "四班三倒A")],
        )
        .await;
    c.lead
        .form(
            "/roster/copy",
            &[("week", "2026-W51"), ("template", "四班三倒A")],
        )
        .await;
    let v51: Value = c
        .lead
        .get("/api/v1/roster?week=2026-W51")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who(&v51, 0, 0, 2), "wangfang");
    assert_eq!(v51["templates"], json!(["四班三倒A"]));

    // The week prints and exports.
    let page = c
        .lead
        .get("/roster?week=2026-W49")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-print") && page.contains("值班排班表"));
    let r = c.op.get("/roster/export?week=2026-W49").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let text: Vec<String> = sheet.rows().flatten().map(|c| c.to_string()).collect();
    assert!(
        text.iter().any(|t| t.contains("值班排班表 2026-W49")),
        "{text:?}"
    );
    assert!(text.contains(&"张丽".to_string()) && text.contains(&"王芳".to_string()));
    let r = c.op.get("/api/v1/roster?week=2026-W49&format=xlsx").await;
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("2026-W49")
    );
    // Units have no roster.
    assert_eq!(
        c.unit_a.get("/roster").await.status(),
        StatusCode::FORBIDDEN
    );
}

/// Issue 12, point 5: the roster never moves a deadline — an order registered and dispatched
/// at night gets the same deadlines whether or not anyone is planned then.
#[tokio::test]
async fn night_intake_deadlines_do_not_read_the_roster() {
    let mut c = Centre::new().await;
    // Tuesday 02:00 (the night shift).
    c.advance(17 * 3600).await;
    let a = create(&c.op, order_body("13812345678", "夜间来电：停水")).await;
    let a = a["id"].as_u64().unwrap();
    ok(&c.op, a, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let r = c
        .lead
        .put(
            "/api/v1/roster?week=2026-W49",
            json!({"cells": [{"day": 1, "slot": 2, "seat": 1, "user": "op1"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let b = create(&c.op, order_body("13812345679", "夜间来电：停电")).await;
    let b = b["id"].as_u64().unwrap();
    ok(&c.op, b, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let (a, b) = (get(&c.op, a).await, get(&c.op, b).await);
    assert!(
        a["rounds"][0]["sign_due"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(a["rounds"][0]["sign_due"], b["rounds"][0]["sign_due"]);
    assert_eq!(a["rounds"][0]["handle_due"], b["rounds"][0]["handle_due"]);
}
