//! Issue 8, point 5: nobody can lock a user out, and guessing stays slow.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{NEW_PASSWORD, TestApp};
use crate::orders::Centre;

async fn try_login(app: &TestApp, c: &Client, user: &str, pw: &str) -> reqwest::Response {
    c.post(app.url("/api/v1/session"))
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn nobody_can_lock_a_user_out() {
    let c = Centre::new().await;
    let app = &c.app;
    let attacker = app.client_at(2);
    let owner = app.client_at(3);
    // An attacker who knows the name guesses wrong, slowly, for a whole day.
    let mut throttled = 0;
    for _ in 0..96 {
        let r = try_login(app, &attacker, "op1", "Wrong-guess-123").await;
        match r.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.headers().contains_key("retry-after"));
                throttled += 1;
            }
            s => panic!("unexpected {s}"),
        }
        // Meanwhile the owner signs in from their own PC whenever they like.
        let r = try_login(app, &owner, "op1", NEW_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "the owner is never locked out");
        app.clock.advance_secs(15 * 60);
    }
    // And the attacker's guesses were held up (each after the first few waits for more).
    let r = try_login(app, &attacker, "op1", "Wrong-guess-124").await;
    let r2 = try_login(app, &attacker, "op1", "Wrong-guess-125").await;
    assert!(
        r.status() == StatusCode::TOO_MANY_REQUESTS || r2.status() == StatusCode::TOO_MANY_REQUESTS
    );
    let _ = throttled;

    // One address guesses at most 10 times a minute, whichever accounts it tries.
    let sprayer = app.client_at(4);
    let mut refused = None;
    for i in 0..12 {
        let r = try_login(app, &sprayer, &format!("user{i}"), "Wrong-guess-123").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait <= 60);
            refused = Some(i);
            break;
        }
    }
    assert_eq!(refused, Some(10), "the 11th guess in a minute waits");
    app.clock.advance_secs(61);
    assert_eq!(
        try_login(app, &sprayer, "user0", "Wrong-guess-123")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Many addresses guessing one account: an alert on the admin's home, no lock.
    for n in 10..16u8 {
        let r = try_login(app, &app.client_at(n), "lead1", "Wrong-guess-123").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let admin = app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    let page = admin.get("/admin").await.text().await.unwrap();
    assert!(
        page.contains("lead1") && page.contains("可能有人在猜测密码"),
        "{page}"
    );
    assert_eq!(
        try_login(app, &app.client_at(20), "lead1", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // The old-password check when changing a password is throttled too.
    let s = app.login("qa1", NEW_PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = s
            .post(
                "/api/v1/session/password",
                json!({"old_password": "Wrong-old-123", "new_password": "Another-pass-77"}),
            )
            .await;
        statuses.push(r.status());
    }
    assert_eq!(statuses[0], StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    // A password that contains the username is refused.
    let s = app.login("sup1", NEW_PASSWORD).await;
    for pw in ["sup1-Password-2026", "My-SUP1-pass-2026"] {
        let r = s
            .post(
                "/api/v1/session/password",
                json!({"old_password": NEW_PASSWORD, "new_password": pw}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{pw}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains("用户名"));
    }
}
