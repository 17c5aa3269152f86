//! Login, logout, cookies, rotation, timeouts, throttling, CSRF, disabled users.

use hotline::domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{NEW_PASSWORD, TestApp, USER_PASSWORD, error_code};

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let app = TestApp::new().await;
    let _admin = app.admin().await;
    let c = app.client();
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "admin", "password": crate::helpers::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-hotline="));
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "cookie lacks {flag}: {cookie}");
    }
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["user"], "admin");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["csrf_token"].as_str().unwrap().len(), 64);
    let csrf = body["csrf_token"].as_str().unwrap().to_string();

    let r = c.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let r = c
        .delete(app.url("/api/v1/session"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(r).await, "unauthenticated");
}

#[tokio::test]
async fn login_rotates_the_session_id() {
    let app = TestApp::new().await;
    let _admin = app.admin().await;
    let raw = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&app.ca_pem).unwrap())
        .build()
        .unwrap();
    let login = |cookie: Option<String>| {
        let mut req = raw
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "admin", "password": crate::helpers::ADMIN_PASSWORD}));
        if let Some(c) = cookie {
            req = req.header("cookie", format!("__Host-hotline={c}"));
        }
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
            set.trim_start_matches("__Host-hotline=")
                .split(';')
                .next()
                .unwrap()
                .to_string()
        }
    };
    let first = login(None).await;
    let second = login(Some(first.clone())).await;
    assert_ne!(first, second);
    let with = |c: String| {
        raw.get(app.url("/api/v1/session"))
            .header("cookie", format!("__Host-hotline={c}"))
            .send()
    };
    assert_eq!(
        with(first).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(with(second).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn sessions_time_out_when_idle_and_absolutely() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    // Activity keeps the session alive past the idle limit.
    for _ in 0..3 {
        app.clock.advance_secs(20 * 60);
        assert_eq!(admin.get("/api/v1/session").await.status(), StatusCode::OK);
    }
    // 30 minutes of silence ends it.
    app.clock.advance_secs(30 * 60);
    assert_eq!(
        admin.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // However busy, a session ends after 12 hours.
    let s = app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    for _ in 0..(12 * 3) {
        app.clock.advance_secs(20 * 60);
        let st = s.get("/api/v1/session").await.status();
        if st == StatusCode::UNAUTHORIZED {
            return;
        }
    }
    panic!("session outlived its absolute lifetime");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_per_address() {
    let app = TestApp::new().await;
    let _admin = app.admin().await;
    let c = app.client();
    let attempt = |user: &'static str, pw: &'static str| {
        let c = c.clone();
        let url = app.url("/api/v1/session");
        async move {
            c.post(url)
                .json(&json!({"username": user, "password": pw}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        let r = attempt("admin", "wrong-password-x").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "invalid_credentials");
        assert_eq!(v["error"]["message"], "用户名或密码错误");
    }
    // The fourth try waits, even with the right password.
    let r = attempt("admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "2");
    app.clock.advance_secs(2);
    let r = attempt("admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);

    // An unknown account gets the same answer as a wrong password.
    let r = attempt("nobody", "wrong-password-x").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(r).await, "invalid_credentials");

    // Many accounts from one address: the address is refused.
    let names = [
        "u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "u10", "u11", "u12", "u13",
        "u14", "u15", "u16", "u17", "u18", "u19",
    ];
    let mut limited = false;
    for n in names {
        let r = attempt(n, "wrong-password-x").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            assert!(r.headers().contains_key("retry-after"));
            break;
        }
    }
    assert!(limited, "the per-address limit never applied");
    let r = attempt("admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn unsafe_calls_need_the_csrf_token_and_a_matching_origin() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let body = json!({"code": "mishui", "name": "洣水镇", "league": "township"});
    // No token.
    let r = admin
        .client
        .post(admin.url("/api/v1/units"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "csrf");
    // A wrong token.
    let r = admin
        .client
        .post(admin.url("/api/v1/units"))
        .header("x-csrf-token", "0".repeat(64))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The right token from another origin.
    let r = admin
        .client
        .post(admin.url("/api/v1/units"))
        .header("x-csrf-token", &admin.csrf)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A form post without the token.
    let r = admin
        .client
        .post(admin.url("/admin/units"))
        .form(&[
            ("code", "mishui"),
            ("name", "洣水镇"),
            ("league", "township"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing was created.
    let units: serde_json::Value = admin.get("/api/v1/units").await.json().await.unwrap();
    assert_eq!(units["total"], 0);
    // The same call done right works, with its own origin.
    let r = admin
        .client
        .post(admin.url("/api/v1/units"))
        .header("x-csrf-token", &admin.csrf)
        .header("origin", app.base.clone())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn admin_made_users_must_change_their_password_first() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = admin
        .post("/api/v1/users", json!({"username": "wang", "display_name": "王芳", "role": "operator", "password": USER_PASSWORD}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let s = app.login("wang", USER_PASSWORD).await;
    assert_eq!(s.body["must_change_password"], true);
    let r = s.get("/api/v1/units").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "password_change_required");
    // Pages send the user to the change form.
    let r = s.get("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/password");
    // Too short, and same as before, are refused.
    let r = s
        .post(
            "/api/v1/session/password",
            json!({"old_password": USER_PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(
            "/api/v1/session/password",
            json!({"old_password": "not-my-password", "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(
            "/api/v1/session/password",
            json!({"old_password": USER_PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.get("/api/v1/units").await.status(), StatusCode::OK);
    // The old password no longer works; the new one does.
    let c = app.client();
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "wang", "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let again = app.login("wang", NEW_PASSWORD).await;
    assert_eq!(again.body["must_change_password"], false);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_at_once() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let op = app.user(&admin, "zhao", Role::Operator).await;
    assert_eq!(op.get("/api/v1/units").await.status(), StatusCode::OK);
    let users: serde_json::Value = admin.get("/api/v1/users").await.json().await.unwrap();
    let id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "zhao")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let r = admin
        .patch(&format!("/api/v1/users/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["disabled"],
        true
    );
    assert_eq!(
        op.get("/api/v1/units").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A disabled user cannot log in, and learns nothing about why.
    let r = app
        .client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "zhao", "password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(r).await, "invalid_credentials");
    // Re-enabled, the user works again.
    let r = admin
        .patch(&format!("/api/v1/users/{id}"), json!({"disabled": false}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.login("zhao", NEW_PASSWORD).await;
}

#[tokio::test]
async fn an_admin_cannot_lock_out_themselves_or_the_office() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = admin
        .patch("/api/v1/users/1", json!({"disabled": true}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(r).await, "self_lockout");
    let r = admin
        .patch("/api/v1/users/1", json!({"role": "operator"}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // A reset by the admin forces a change at next login and ends the user's sessions.
    let op = app.user(&admin, "qian", Role::Operator).await;
    let r = admin
        .patch("/api/v1/users/2", json!({"password": "Reset-pass-777"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        op.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let s = app.login("qian", "Reset-pass-777").await;
    assert_eq!(s.body["must_change_password"], true);
}
