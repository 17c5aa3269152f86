//! Issue 8, point 3: no input causes a 500 or a panic, ever. Bounded, seeded fuzzing of every
//! route (JSON and form bodies, query strings, path segments, multipart) as a role that may
//! use it, property tests of every parser of outside input, and the crashes outside testing
//! found, each with its clean answer.

use std::time::Duration;

use hotline::domain::role::{Role, allows};
use hotline::http::routes::{Access, ROUTES, RouteSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_code};
use crate::hostile::Gen;
use crate::orders::{Centre, create, ok, order_body};

/// A path with its parameters filled: mostly real ids, sometimes hostile text.
fn fill(g: &mut Gen, path: &str, ids: &[u64], users: &[u64]) -> String {
    let id = if path.contains("/users/") {
        g.pick(users).to_string()
    } else if g.chance(70) {
        g.pick(ids).to_string()
    } else {
        g.pick(&[
            "0",
            "-1",
            "99999999999999999999999",
            "abc",
            "1.5",
            "%00",
            "１",
        ])
        .to_string()
    };
    let seg = |g: &mut Gen| -> String {
        let s = g.string();
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let action = if g.chance(80) {
        (*g.pick(&[
            "reject",
            "answer",
            "dispatch",
            "sign",
            "return",
            "decide_return",
            "request_extension",
            "decide_extension",
            "progress",
            "reply",
            "review_reply",
            "callback",
            "reopen",
            "close",
            "urge",
            "supervise",
            "merge",
            "withdraw",
        ]))
        .to_string()
    } else {
        seg(g)
    };
    let name = if g.chance(50) {
        (*g.pick(&[
            "app.css",
            "hotline-20261130-090000.hlbak",
            "hotline-日日日日-日日.hlbak",
            "..%2F..%2Fhotline.redb",
        ]))
        .to_string()
    } else {
        seg(g)
    };
    let phone = if g.chance(50) {
        "13800138000".to_string()
    } else {
        seg(g)
    };
    let year = if g.chance(50) {
        (*g.pick(&["2027", "9999", "-1", "0", "2026"])).to_string()
    } else {
        seg(g)
    };
    path.replace("{id}", &id)
        .replace("{phone}", &phone)
        .replace("{name}", &name)
        .replace("{action}", &action)
        .replace("{year}", &year)
        .replace("{hash}", &seg(g))
}

/// Routes that end the fuzzing session itself; they are exercised by their own tests.
fn skipped(r: &RouteSpec) -> bool {
    (r.method == "DELETE" && r.path == "/api/v1/session") || r.path == "/logout"
}

fn session_for<'a>(g: &mut Gen, c: &'a Centre, r: &RouteSpec) -> Option<&'a Session> {
    let all: [(Role, &Session); 6] = [
        (Role::Operator, &c.op),
        (Role::ShiftLead, &c.lead),
        (Role::Qa, &c.qa),
        (Role::Supervisor, &c.sup),
        (Role::Admin, &c.admin),
        (Role::Unit, &c.unit_a),
    ];
    let allowed: Vec<&Session> = all
        .iter()
        .filter(|(role, _)| match r.access {
            Access::Perm(p) => allows(*role, p),
            Access::Token => false,
            _ => true,
        })
        .map(|(_, s)| *s)
        .collect();
    if r.access == Access::Public && g.chance(30) {
        return None;
    }
    Some(
        allowed
            .get(g.below(allowed.len()))
            .copied()
            .unwrap_or(&c.admin),
    )
}

/// One hostile request; `Err` describes a 5xx or a dropped connection.
async fn poke(
    g: &mut Gen,
    c: &Centre,
    r: &RouteSpec,
    ids: &[u64],
    users: &[u64],
    seen: &mut std::collections::BTreeMap<u16, usize>,
) -> Result<(), String> {
    let s = session_for(g, c, r);
    let mut path = fill(g, r.path, ids, users);
    if r.method == "GET" || g.chance(20) {
        path = format!("{path}?{}", g.urlencoded());
    }
    let client = s
        .map(|s| s.client.clone())
        .unwrap_or_else(|| c.app.client());
    let method = Method::from_bytes(r.method.as_bytes()).unwrap_or(Method::GET);
    let mut req = client
        .request(method, c.app.url(&path))
        .timeout(Duration::from_secs(30));
    let csrf = s.map(|s| s.csrf.clone()).unwrap_or_default();
    let mut shown = String::new();
    if r.method != "GET" {
        if r.path.starts_with("/api/") {
            req = req.header("x-csrf-token", &csrf);
            let body: Vec<u8> = match g.below(6) {
                0 => g.bytes(300),
                1 => serde_json::to_vec(&g.value(0)).unwrap_or_default(),
                2 => b"{\"a\":".repeat(200),
                3 => serde_json::to_vec(&g.mutate(&order_body("13800138000", "路灯不亮")))
                    .unwrap_or_default(),
                _ => serde_json::to_vec(&g.object(0)).unwrap_or_default(),
            };
            shown = String::from_utf8_lossy(&body).chars().take(300).collect();
            let ctype = if g.chance(90) {
                "application/json"
            } else {
                *g.pick(&[
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x",
                ])
            };
            req = req.header("content-type", ctype).body(body);
        } else if g.chance(15) {
            // A multipart body, well-formed or not (uploads and anything else).
            let boundary = if g.chance(70) { "XyZ" } else { "" };
            let mut body = Vec::new();
            for _ in 0..=g.below(3) {
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\r\n",
                        g.pick(&["file", "cert", "key", "bundle", "csrf"]),
                        g.string().replace(['"', '\r', '\n'], "")
                    )
                    .as_bytes(),
                );
                let b = g.bytes(2000);
                body.extend_from_slice(&b);
                body.extend_from_slice(b"\r\n");
            }
            if g.chance(70) {
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            }
            path = format!(
                "{path}{}csrf={csrf}",
                if path.contains('?') { "&" } else { "?" }
            );
            req = client
                .request(Method::POST, c.app.url(&path))
                .timeout(Duration::from_secs(30))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body);
            shown = "(multipart)".into();
        } else {
            let body = format!("csrf={csrf}&{}", g.urlencoded());
            shown = body.chars().take(300).collect();
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
    }
    match req.send().await {
        Ok(resp) if resp.status().is_server_error() => {
            let st = resp.status();
            let text = resp.text().await.unwrap_or_default();
            Err(format!(
                "{} {path} → {st}\n  body sent: {shown}\n  answer: {}",
                r.method,
                text.chars().take(200).collect::<String>()
            ))
        }
        Ok(resp) => {
            *seen.entry(resp.status().as_u16()).or_default() += 1;
            Ok(())
        }
        // The client would not send it (an invalid URL): nothing reached the server.
        Err(e) if e.is_builder() => Ok(()),
        Err(e) => Err(format!(
            "{} {path} → connection error {e}\n  body sent: {shown}",
            r.method
        )),
    }
}

#[tokio::test]
async fn no_input_causes_a_500_or_a_panic() {
    let c = Centre::new().await;
    // Orders in several states, so ids point at something.
    let mut ids = Vec::new();
    for i in 0..3 {
        let o = create(&c.op, order_body(&format!("1390000000{i}"), "路灯不亮")).await;
        ids.push(o["id"].as_u64().unwrap());
    }
    ok(&c.op, ids[1], "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.op, ids[2], "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, ids[2], "sign", json!({})).await;
    let mut users = Vec::new();
    for name in ["victim1", "victim2"] {
        let r = c
            .admin
            .post(
                "/api/v1/users",
                json!({"username": name, "display_name": "靶子", "role": "operator", "password": "Victim-pass-01"}),
            )
            .await;
        users.push(r.json::<Value>().await.unwrap()["id"].as_u64().unwrap());
    }
    let rounds = Gen::rounds(6);
    let mut g = Gen::new(3);
    let mut failures = Vec::new();
    let mut sent = 0;
    let mut seen = std::collections::BTreeMap::new();
    for r in ROUTES.iter().filter(|r| !skipped(r)) {
        let n = if r.path.contains("backups") || r.path.contains("updates") {
            2
        } else {
            rounds
        };
        for _ in 0..n {
            sent += 1;
            if let Err(e) = poke(&mut g, &c, r, &ids, &users, &mut seen).await {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} hostile requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The server is still whole: it answers, and its audit chain holds.
    let r = c.op.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    let app = c.app.running.as_ref().unwrap().app.clone();
    let verdict = hotline::service::audit::verify(&app.store).unwrap();
    assert!(
        matches!(verdict, hotline::service::audit::Verdict::Intact { .. }),
        "the audit chain broke"
    );
    eprintln!("{sent} hostile requests, none answered 5xx; statuses: {seen:?}");
    // The requests reached the handlers: many were answered, many refused as invalid.
    assert!(seen.get(&200).copied().unwrap_or(0) > sent / 10, "{seen:?}");
    assert!(
        seen.get(&422).copied().unwrap_or(0) + seen.get(&400).copied().unwrap_or(0) > sent / 10,
        "{seen:?}"
    );
}

/// The faults outside testing named, each now a clean answer.
#[tokio::test]
async fn the_known_crashes_get_clean_answers() {
    let c = Centre::new().await;
    // A deadline in the year 9999 is refused (422), not stored.
    let mut body = order_body("13900000009", "平台件");
    for bad in [
        "9999-12-31T23:59:59Z",
        "1900-01-01",
        "2026-02-30",
        "+275760-09-13T00:00:00Z",
    ] {
        body["external_due"] = json!(bad);
        let r = c.op.post("/api/v1/orders", body.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(error_code(r).await, "invalid_field");
    }
    // And an order that already holds such a date (an old record) shows everywhere.
    body["external_due"] = json!("2026-12-31");
    let o = create(&c.op, body).await;
    let id = o["id"].as_u64().unwrap();
    let app = c.app.running.as_ref().unwrap().app.clone();
    app.store
        .write(|tx| -> Result<(), hotline::error::AppError> {
            let old =
                hotline::store::orders::get(tx, hotline::domain::order::OrderId(id))?.unwrap();
            let mut o = old.clone();
            o.external_due = Some(hotline::domain::time::Timestamp(253_402_300_799_000));
            hotline::store::orders::put(tx, Some(&old), &o)?;
            Ok(())
        })
        .unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    for path in ["/orders", "/", "/api/v1/orders", &format!("/orders/{id}")] {
        for s in [&c.op, &c.sup, &c.unit_a] {
            let r = s.get(path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
        }
    }
    // /login?next= with control characters or a tab trick stays on this site.
    let anon = c.app.client();
    for next in [
        "/%09/evil.example/",
        "%0d%0aSet-Cookie:%20x=1",
        "/%00",
        "//evil.example",
        "/%5Cevil",
    ] {
        let r = anon
            .get(c.app.url(&format!("/login?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{next}");
        let page = r.text().await.unwrap();
        assert!(!page.contains("evil.example\""), "{next}");
        // Signed in, the same link sends the user home, never away.
        let r = c.op.get(&format!("/login?next={next}")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
    // A file with a non-ASCII name in backups/ does not break the backup list.
    let dir = c.app.data().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "hotline-日日日日-日日.hlbak",
        "hotline-2026113０-090000.hlbak",
        "日志.txt",
    ] {
        std::fs::write(dir.join(name), b"x").unwrap();
    }
    let r = c.admin.get("/admin/backups").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c.admin.get("/api/v1/admin/backups").await;
    assert_eq!(r.status(), StatusCode::OK);
    // A crafted update bundle header is refused before anything is trusted.
    let mut b = hotline::update::MAGIC.to_vec();
    let header =
        br#"{"version":"9","target":"x","sha256":"00","size":18446744073709551615,"key":"00"}"#;
    b.extend_from_slice(&(header.len() as u32).to_le_bytes());
    b.extend_from_slice(header);
    b.extend_from_slice(&[0u8; 64]);
    assert!(hotline::update::verify_with(&b, &["00"], "x").is_err());
    let mut b2 = hotline::update::MAGIC.to_vec();
    b2.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(hotline::update::verify_with(&b2, &[], "x").is_err());
}

#[tokio::test]
async fn a_panic_is_logged_and_answered_not_dropped() {
    use axum::routing::get;
    async fn boom() -> &'static str {
        let v: Vec<u8> = Vec::new();
        let i = v.len() + 3;
        if v.get(i).is_none() {
            panic!("deliberate panic in a handler");
        }
        "never"
    }
    let router = axum::Router::new()
        .route("/boom", get(boom))
        .route("/fine", get(|| async { "fine" }))
        .layer(axum::middleware::from_fn(
            hotline::http::render::catch_panics,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hotline::http::server::serve(
        listener,
        router,
        None,
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = client
            .get(format!("http://{addr}/boom"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let r = client
            .get(format!("http://{addr}/fine"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "fine");
    }
    let _ = stop.send(());
    let _ = server.await;
}

/// Every parser of outside input, on random and mutated input: never a panic, and the
/// answers keep their promises.
#[test]
fn parsers_of_outside_input_never_panic() {
    use hotline::domain::time::{Timestamp, parse_day};
    use hotline::domain::validate::*;
    let mut g = Gen::new(7);
    let n = Gen::rounds(3000);
    for _ in 0..n {
        let s = g.string();
        if let Some(p) = normalize_phone(&s) {
            assert_eq!(normalize_phone(&p).as_deref(), Some(p.as_str()), "{s:?}");
            assert!(p.bytes().all(|b| b.is_ascii_digit() || b == b'-'), "{s:?}");
        }
        let _ = valid_id_number(&s);
        let _ = valid_credit_code(&s);
        let _ = (mask_phone(&s), mask_id(&s), mask_name(&s));
        if let Some(d) = parse_day(&s) {
            assert!((2000..=2099).contains(&d.year()), "{s:?}");
        }
        for t in [
            Timestamp::parse_rfc3339(&s),
            Timestamp::parse_local(&s),
            Timestamp::parse_cst_date(&s),
            hotline::service::orders::parse_due(&s),
        ]
        .into_iter()
        .flatten()
        {
            assert!(t.in_range(), "{s:?}");
        }
        let next = hotline::http::pages::safe_next(Some(&s));
        assert!(
            next == "/"
                || (next.starts_with('/')
                    && !next.starts_with("//")
                    && next.bytes().all(|b| b.is_ascii_graphic())),
            "{s:?} → {next:?}"
        );
        let _ = hotline::search::tokens(&s);
        let _ = hotline::service::orders::privacy::mask_number_runs(&s, true);
        let t = Timestamp(g.next() as i64);
        let _ = (
            t.display_cst(),
            t.rfc3339_cst(),
            t.cst_day(),
            t.cst_digits(),
        );
    }
    // Update bundles: random bytes, and a real bundle with bytes flipped or cut.
    let dir = tempfile::tempdir().unwrap();
    let pubkey = hotline::update::keygen(dir.path()).unwrap();
    let good =
        hotline::update::sign(&dir.path().join("update.key"), b"binary", "1.0.0", "t").unwrap();
    assert!(hotline::update::verify_with(&good, &[&pubkey], "t").is_ok());
    for _ in 0..Gen::rounds(2000) {
        let mut b = good.clone();
        match g.below(4) {
            0 => b = g.bytes(200),
            1 => b.truncate(g.below(good.len())),
            _ => {
                for _ in 0..=g.below(4) {
                    let i = g.below(b.len());
                    b[i] = g.next() as u8;
                }
            }
        }
        if b != good {
            assert!(hotline::update::verify_with(&b, &[&pubkey], "t").is_err());
        }
    }
    // Certificates and keys: random and mangled PEM.
    let pem = rcgen_pair();
    for _ in 0..Gen::rounds(300) {
        let mut cert = pem.0.clone().into_bytes();
        let mut key = pem.1.clone().into_bytes();
        for buf in [&mut cert, &mut key] {
            if g.chance(50) && !buf.is_empty() {
                let i = g.below(buf.len());
                buf[i] = g.next() as u8;
            }
            if g.chance(20) {
                *buf = g.bytes(400);
            }
        }
        let _ = hotline::http::tls::check_pair(&cert, &key, 1_796_000_400);
        let _ = hotline::http::tls::validity(&g.bytes(300));
    }
    // Backup names: whatever lies in the folder, the list is read.
    let bdir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        let mut name = format!("hotline-{}.hlbak", g.string());
        name.retain(|c| c != '/' && c != '\0');
        if name.len() > 200 {
            let mut end = 100;
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            name.truncate(end);
        }
        let _ = std::fs::write(bdir.path().join(format!("{i}{name}")), b"x");
        let _ = std::fs::write(bdir.path().join(&name), b"x");
    }
    let _ = hotline::service::backups::list_files(bdir.path());
}

/// A self-signed certificate and key in PEM, for the certificate parser's fuzzing.
fn rcgen_pair() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The login page itself, with any `next`: never a 500.
#[tokio::test]
async fn login_next_takes_anything() {
    let app = TestApp::new().await;
    let client = app.client();
    let mut g = Gen::new(11);
    for _ in 0..Gen::rounds(60) {
        let q = g.urlencoded();
        match client
            .get(app.url(&format!("/login?next={q}")))
            .send()
            .await
        {
            Ok(r) => assert!(!r.status().is_server_error(), "{q}"),
            Err(e) => assert!(e.is_builder(), "{q}: {e}"),
        }
    }
}
