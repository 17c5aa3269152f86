//! Every role (and a visitor with no session) against every route of the permission table.

use hotline::domain::role::{Role, allows};
use hotline::http::routes::{Access, ROUTES, RouteSpec};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Session, TestApp};

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{phone}", "13800000000")
        .replace("{name}", "app.css")
        .replace("{action}", "urge")
        .replace("{year}", "2027")
        .replace("{hash}", &"0".repeat(64))
}

/// Calls the route; a GET route is called with HEAD too, which must answer the same.
async fn call(app: &TestApp, s: Option<&Session>, r: &RouteSpec) -> StatusCode {
    let st = call_with(app, s, r, r.method).await;
    if r.method == "GET" {
        let head = call_with(app, s, r, "HEAD").await;
        assert_eq!(head, st, "HEAD {} must pass the same guard as GET", r.path);
    }
    st
}

async fn call_with(app: &TestApp, s: Option<&Session>, r: &RouteSpec, m: &str) -> StatusCode {
    let method = Method::from_bytes(m.as_bytes()).unwrap();
    let url = app.url(&concrete(r.path));
    let client = match s {
        Some(s) => s.client.clone(),
        None => app.client(),
    };
    let csrf = s.map(|s| s.csrf.clone()).unwrap_or_default();
    let mut req = client.request(method.clone(), url);
    if method != Method::GET && method != Method::HEAD {
        req = if r.path.starts_with("/api/") {
            req.header("x-csrf-token", &csrf).json(&json!({}))
        } else {
            req.form(&[("csrf", csrf.as_str())])
        };
    }
    req.send().await.unwrap().status()
}

fn logs_out(r: &RouteSpec) -> bool {
    (r.method == "DELETE" && r.path == "/api/v1/session") || r.path == "/logout"
}

#[tokio::test]
async fn every_role_against_every_route() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let mut sessions: Vec<(Role, Session)> = Vec::new();
    for role in Role::ALL {
        let s = if role == Role::Admin {
            app.login("admin", crate::helpers::ADMIN_PASSWORD).await
        } else {
            app.user(
                &admin,
                &format!("p-{}", role.code().replace('_', "-")),
                role,
            )
            .await
        };
        sessions.push((role, s));
    }
    let mut checked = 0;
    let mut report = Vec::new();
    for r in ROUTES {
        // A visitor with no session.
        let st = call(&app, None, r).await;
        match r.access {
            Access::Public => assert_ne!(st, StatusCode::UNAUTHORIZED, "{} {}", r.method, r.path),
            _ => {
                let page_get = r.method == "GET" && !r.path.starts_with("/api/");
                if page_get {
                    assert_eq!(
                        st,
                        StatusCode::SEE_OTHER,
                        "anonymous {} {}",
                        r.method,
                        r.path
                    );
                } else {
                    assert_eq!(
                        st,
                        StatusCode::UNAUTHORIZED,
                        "anonymous {} {}",
                        r.method,
                        r.path
                    );
                }
            }
        }
        let mut row = format!("{:6} {:28}", r.method, r.path);
        for (role, s) in &sessions {
            let fresh;
            let s = if logs_out(r) {
                let name = if *role == Role::Admin {
                    "admin".to_string()
                } else {
                    format!("p-{}", role.code().replace('_', "-"))
                };
                let pw = if *role == Role::Admin {
                    crate::helpers::ADMIN_PASSWORD
                } else {
                    crate::helpers::NEW_PASSWORD
                };
                fresh = app.login(&name, pw).await;
                &fresh
            } else {
                s
            };
            let st = call(&app, Some(s), r).await;
            let expected_ok = match r.access {
                Access::Public | Access::Password | Access::Session => true,
                Access::Perm(p) => allows(*role, p),
                Access::Token => false,
            };
            if r.access == Access::Public {
                // Public forms have their own checks (the pre-session token, setup done).
                assert!(
                    !st.is_server_error(),
                    "{} {} {} gave {st}",
                    role.code(),
                    r.method,
                    r.path
                );
            } else if expected_ok {
                assert!(
                    st != StatusCode::FORBIDDEN
                        && st != StatusCode::UNAUTHORIZED
                        && !st.is_server_error(),
                    "{} may {} {} but got {st}",
                    role.code(),
                    r.method,
                    r.path
                );
            } else {
                assert_eq!(
                    st,
                    StatusCode::FORBIDDEN,
                    "{} must not {} {}",
                    role.code(),
                    r.method,
                    r.path
                );
            }
            row.push_str(if expected_ok { " ✓" } else { " ·" });
            checked += 1;
        }
        report.push(row);
    }
    println!(
        "route × role (operator shift_lead qa supervisor admin unit):\n{}",
        report.join("\n")
    );
    assert_eq!(checked, ROUTES.len() * Role::ALL.len());

    // Denials are in the audit log.
    let log: serde_json::Value = admin
        .get("/api/v1/audit?action=permission.denied")
        .await
        .json()
        .await
        .unwrap();
    assert!(log["total"].as_u64().unwrap() > 10);
    assert_eq!(log["items"][0]["action"], "permission.denied");
}
