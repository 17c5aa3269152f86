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
    assert!(all["total"].as_u64().unwrap() >= 2000, "{}", all["total"]);
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

    // Issue 11, point 7: nothing happened after now — the newest orders' last changes are
    // all in the past.
    let now_s = now.rfc3339_cst();
    let newest: Value = s
        .get("/api/v1/orders?per_page=200")
        .await
        .json()
        .await
        .unwrap();
    for o in newest["items"].as_array().unwrap() {
        let at = o["updated_at"].as_str().unwrap();
        assert!(
            at <= now_s.as_str(),
            "{} changed at {at}, after {now_s}",
            o["number"]
        );
    }
    // Four months of history: the oldest order is months old.
    let oldest: Value = s
        .get(&format!("/api/v1/orders?per_page=1&page={}", all["total"]))
        .await
        .json()
        .await
        .unwrap();
    let first = oldest["items"][0]["created_at"].as_str().unwrap();
    assert!(first < "2026-09-01", "{first}");
    // The towns' own matters go to the town of the address.
    for (code, town) in [
        ("wuji", "吴集镇"),
        ("mishui", "洣水镇"),
        ("xialiu", "霞流镇"),
    ] {
        let v: Value = s
            .get(&format!("/api/v1/orders?per_page=200&unit={code}"))
            .await
            .json()
            .await
            .unwrap();
        let items = v["items"].as_array().unwrap();
        assert!(!items.is_empty(), "no order for {town}");
        for o in items {
            assert_eq!(o["address"]["town"], town, "{}", o["number"]);
        }
    }
    // A dozen knowledge articles, each with its 文号.
    let kb: Value = s.get("/api/v1/kb").await.json().await.unwrap();
    let items = kb["items"].as_array().unwrap();
    assert!(items.len() >= 12, "{kb}");
    assert!(
        items
            .iter()
            .all(|a| a["doc_no"].as_str().is_some_and(|d| d.contains('〔')))
    );
}
