//! The desks: repeat calls, merging from intake, one-click urging, the handover log and board.

use hotline::domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, create, get, ok, order_body};
use crate::setup::hidden_value;

#[tokio::test]
async fn repeat_calls_merge_urge_by_unit_handover_and_board() {
    let mut c = Centre::new().await;
    let first = create(&c.op, order_body("13512340000", "路灯不亮")).await;
    let id = first["id"].as_u64().unwrap();
    // The caller rings again: appended, not registered twice.
    let r =
        c.op.post(
            &format!("/api/v1/orders/{id}/repeat_call"),
            json!({"note": "再次反映，仍未修复"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["flags"]["repeat_calls"], 1);
    assert_eq!(
        v["timeline"].as_array().unwrap().last().unwrap()["action"],
        "repeat_call"
    );
    assert_eq!(
        c.unit_a
            .post(&format!("/api/v1/orders/{id}/repeat_call"), json!({}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let list: Value = c.op.get("/api/v1/orders").await.json().await.unwrap();
    assert_eq!(list["total"], 1);

    // Registered and merged into the first in one go from the intake page.
    let html = c.op.get("/orders/new").await.text().await.unwrap();
    let token = hidden_value(&html, "form_token");
    let number = first["number"].as_str().unwrap();
    let r =
        c.op.form(
            "/orders/new",
            &[
                ("form_token", token.as_str()),
                ("caller_phone", "13512340001"),
                ("caller_name", "邻居"),
                ("kind", "help"),
                ("title", "路灯不亮"),
                ("content", "同一处路灯不亮"),
                ("outcome", "merge"),
                ("merge_into", number),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("?ok=new_merge")
    );
    let master = get(&c.op, id).await;
    assert_eq!(master["flags"]["merged_from"].as_array().unwrap().len(), 1);

    // Two orders of unit A overdue: the supervisor urges them with one click.
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let other = create(&c.op, order_body("13512340002", "井盖缺失")).await["id"]
        .as_u64()
        .unwrap();
    ok(&c.op, other, "dispatch", json!({"unit": "u-clerk-a"})).await;
    c.advance(2 * 86400).await;
    let home = c.sup.get("/").await.text().await.unwrap();
    assert!(home.contains("一键催办"));
    assert_eq!(
        c.op.form("/units/u-clerk-a/urge_overdue", &[("note", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = c
        .sup
        .form(
            "/units/u-clerk-a/urge_overdue",
            &[("note", "两件超期，请立即签收")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/?ok=urged_2");
    assert!(
        c.sup
            .get("/?ok=urged_2")
            .await
            .text()
            .await
            .unwrap()
            .contains("已催办 2 件超期工单")
    );
    assert_eq!(get(&c.sup, other).await["flags"]["urge_count"], 1);

    // The handover log names open orders; the board shows each operator's intake.
    let r = c
        .lead
        .form(
            "/handover",
            &[("text", "白班交接：路灯两件超期已催办"), ("open", number)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .lead
        .form(
            "/handover",
            &[("text", "有误"), ("open", "HD2099010100001")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        c.op.form("/handover", &[("text", "话务员不能写")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let home = c.lead.get("/").await.text().await.unwrap();
    assert!(home.contains("白班交接") && home.contains(number));
    assert!(home.contains("席位动态"));
}

#[tokio::test]
async fn the_supervisor_sees_supervised_and_urged_orders() {
    let c = Centre::new().await;
    let id = create(&c.op, order_body("13512349999", "督办件")).await["id"]
        .as_u64()
        .unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(
        &c.sup,
        id,
        "supervise",
        json!({"level": "重点督办", "note": "媒体关注"}),
    )
    .await;
    ok(&c.sup, id, "urge", json!({"note": "请加快"})).await;
    let home = c.sup.get("/").await.text().await.unwrap();
    assert!(home.contains("督办中") && home.contains("催办记录"));
    assert!(home.contains("督办件"));
}

/// Issue 11, point 3: the seat board — operators take one of the four seats; the shift lead
/// sees who is signed in on each seat and who is away; a seat in use is not taken twice.
#[tokio::test]
async fn the_seat_board_shows_who_is_signed_in_on_each_seat() {
    let c = crate::orders::Centre::new().await;
    let op2 = c.app.user(&c.admin, "op2", Role::Operator).await;
    let away = c.app.user(&c.admin, "op3", Role::Operator).await;
    let r = c.op.form("/me/seat", &[("seat", "2")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("ok=seat_taken")
    );
    let home = c.op.get("/?ok=seat_taken").await.text().await.unwrap();
    assert!(home.contains("已进入 2 号席位"), "{home}");
    // The seat is op1's while op1 is signed in there.
    let r = op2.form("/me/seat", &[("seat", "2")]).await;
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("ok=seat_busy")
    );
    op2.form("/me/seat", &[("seat", "3")]).await;
    for bad in ["5", "x"] {
        let r = op2.form("/me/seat", &[("seat", bad)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(
        c.unit_a.form("/me/seat", &[("seat", "1")]).await.status(),
        StatusCode::FORBIDDEN
    );
    // The logged-out op3 is away; the lead's board names each seat's person.
    let r = away
        .client
        .delete(away.url("/api/v1/session"))
        .header("x-csrf-token", &away.csrf)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let board = c.lead.get("/").await.text().await.unwrap();
    let board = board.split(r#"id="board""#).nth(1).unwrap();
    assert!(
        board.contains("2 号席位：<strong>测试用户</strong>"),
        "{board}"
    );
    assert!(
        board.contains("1 号席位：<span class=\"muted\">空</span>"),
        "{board}"
    );
    assert!(board.contains("未登录"), "op3 is away: {board}");
    // Leaving frees the seat.
    c.op.form("/me/seat", &[("seat", "")]).await;
    let r = op2.form("/me/seat", &[("seat", "2")]).await;
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("ok=seat_taken")
    );
}
