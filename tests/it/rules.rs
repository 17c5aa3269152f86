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
