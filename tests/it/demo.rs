//! `serve --demo`: a county to look at, with orders in every state.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_demo_county_has_units_users_and_orders_in_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let now = hotline::domain::time::Timestamp::from_secs(crate::helpers::T0);
    let accounts = hotline::demo::load(dir.path(), now).unwrap();
    let roles: Vec<&str> = accounts.iter().map(|(_, r, _)| r.code()).collect();
    for r in [
        "admin",
        "operator",
        "shift_lead",
        "qa",
        "supervisor",
        "unit",
    ] {
        assert!(roles.contains(&r), "no demo {r}");
    }
    // Loading again changes nothing.
    assert!(hotline::demo::load(dir.path(), now).unwrap().is_empty());

    let app = TestApp::start_in(dir).await;
    assert!(
        app.setup_code.is_none(),
        "the demo has an admin: no setup code"
    );
    let (_, _, pw) = accounts.iter().find(|(u, _, _)| u == "supervisor").unwrap();
    let s = app.login("supervisor", pw).await;
    assert_eq!(s.body["must_change_password"], true, "one-time passwords");
    let r = s
        .post(
            "/api/v1/session/password",
            serde_json::json!({"old_password": pw, "new_password": "Demo-super-2026"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let all: Value = s
        .get("/api/v1/orders?per_page=1")
        .await
        .json()
        .await
        .unwrap();
    assert!(all["total"].as_u64().unwrap() >= 300, "{}", all["total"]);
    for state in [
        "registered",
        "dispatched",
        "in_progress",
        "reply_review",
        "callback_pending",
        "final_review",
        "closed",
        "rejected",
        "withdrawn",
    ] {
        let v: Value = s
            .get(&format!("/api/v1/orders?per_page=1&state={state}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(v["total"].as_u64().unwrap() > 0, "no demo order in {state}");
    }
    let units: Value = s.get("/api/v1/units").await.json().await.unwrap();
    assert!(units["total"].as_u64().unwrap() >= 40);
    let home = s.get("/").await.text().await.unwrap();
    assert!(home.contains("超期工单"));
}
