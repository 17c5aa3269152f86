//! The pages as a browser without JavaScript uses them: forms, redirects, flashes.

use hotline::domain::role::Role;
use reqwest::StatusCode;

use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD};
use crate::setup::hidden_value;

#[tokio::test]
async fn login_form_flow_and_forced_password_change() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    // The admin creates an operator through the users page.
    let r = admin
        .form(
            "/admin/users",
            &[
                ("username", "chen"),
                ("display_name", "陈静"),
                ("role", "operator"),
                ("unit", ""),
                ("password", USER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/users?ok=user_created");
    let html = admin
        .get("/admin/users?ok=user_created")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("用户已创建"));
    assert!(html.contains("陈静"));

    // The operator signs in with the form.
    let c = app.client();
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=/");
    let html = c
        .get(app.url("/login?next=/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pre = hidden_value(&html, "csrf");
    // A wrong password: the form comes back with a generic message and the name kept.
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", pre.as_str()),
            ("username", "chen"),
            ("password", "nope-nope-nope"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("用户名或密码错误"));
    assert!(html.contains("value=\"chen\""));
    // Without the form's token: refused.
    let r = app
        .client()
        .post(app.url("/login"))
        .form(&[("username", "chen"), ("password", USER_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Right password: straight to the password change.
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", pre.as_str()),
            ("username", "chen"),
            ("password", USER_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/password");
    let html = c
        .get(app.url("/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("初始密码"));
    let csrf = hidden_value(&html, "csrf");
    let r = c
        .post(app.url("/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("old_password", USER_PASSWORD),
            ("new_password", "Chen-new-pass-1"),
            ("new_password2", "Chen-new-pass-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("两次输入的新密码不一致"));
    let r = c
        .post(app.url("/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("old_password", USER_PASSWORD),
            ("new_password", "Chen-new-pass-1"),
            ("new_password2", "Chen-new-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = c
        .get(app.url("/?ok=password_changed"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(html.contains("陈静"));
    assert!(html.contains("话务员"));
    assert!(html.contains("密码已修改"));
    // An operator's navigation has no admin links, and admin pages are refused.
    assert!(!html.contains("/admin/users"));
    assert_eq!(
        c.get(app.url("/admin/users"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // Logout by form ends the session.
    let r = c
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn admin_pages_render_and_rename_roles() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.user(&admin, "unit-clerk", Role::Unit).await;
    for path in [
        "/",
        "/admin",
        "/admin/users",
        "/admin/units",
        "/admin/audit",
        "/admin/settings",
        "/password",
    ] {
        let r = admin.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("衡东县12345政务服务便民热线"), "{path}");
        assert!(html.contains("退出"), "{path}");
    }
    let html = admin.get("/").await.text().await.unwrap();
    assert!(html.contains("系统概况"));
    assert!(html.contains("证书"));
    // Renaming a role shows everywhere the role is named.
    let r = admin
        .form(
            "/admin/settings",
            &[
                ("org_name", "衡东县政务服务热线"),
                ("idle_timeout_minutes", "45"),
                ("role_operator", "受理员"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = admin.get("/admin/users").await.text().await.unwrap();
    assert!(html.contains("受理员"));
    assert!(html.contains("衡东县政务服务热线"));
    // The idle timeout setting is in force.
    app.clock.advance_secs(40 * 60);
    assert_eq!(admin.get("/api/v1/session").await.status(), StatusCode::OK);
    // A bad value re-renders with the reason.
    let r = admin
        .form(
            "/admin/settings",
            &[("org_name", ""), ("idle_timeout_minutes", "45")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("机构名称"));
    let _ = ADMIN_PASSWORD;
}
