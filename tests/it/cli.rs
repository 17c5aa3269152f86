//! The offline commands: `--help`, `--version`, `user add`, `user reset-password`.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

fn hotline(args: &[&str], stdin: Option<&str>) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        // The command may exit before reading (a refused argument): ignore a closed pipe.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn help_and_version() {
    let (code, out) = hotline(&["--help"], None);
    assert_eq!(code, 0);
    for sub in [
        "serve",
        "user",
        "backup",
        "restore",
        "update",
        "audit",
        "selfcheck",
    ] {
        assert!(out.contains(sub), "{sub} missing from help:\n{out}");
    }
    let (code, out) = hotline(&["--version"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains(env!("CARGO_PKG_VERSION")) && out.contains("commit"),
        "{out}"
    );
}

#[tokio::test]
async fn user_add_works_offline_and_refuses_while_serving() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    assert_eq!(
        admin
            .post(
                "/api/v1/units",
                json!({"code": "xl", "name": "霞流镇", "league": "township"})
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    let data = app.data();
    let d = data.to_str().unwrap().to_string();
    // While the server holds the database, the console is told so.
    let (code, out) = hotline(
        &[
            "user",
            "add",
            "--data",
            &d,
            "--username",
            "zhou",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("Console-pass-123\n"),
    );
    assert_ne!(code, 0);
    assert!(out.contains("in use"), "{out}");

    let dir = app.stop().await;
    let d = dir.path().to_str().unwrap().to_string();
    let (code, out) = hotline(
        &[
            "user",
            "add",
            "--data",
            &d,
            "--username",
            "zhou",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("Console-pass-123\n"),
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = hotline(
        &[
            "user",
            "add",
            "--data",
            &d,
            "--username",
            "xlclerk",
            "--role",
            "unit",
            "--unit",
            "xl",
            "--password-stdin",
        ],
        Some("Console-pass-456\n"),
    );
    assert_eq!(code, 0, "{out}");
    // Bad input is refused with a reason.
    let (code, out) = hotline(
        &[
            "user",
            "add",
            "--data",
            &d,
            "--username",
            "x1y2z3",
            "--role",
            "root",
            "--password-stdin",
        ],
        Some("Console-pass-123\n"),
    );
    assert_ne!(code, 0);
    assert!(out.contains("unknown role"), "{out}");
    let (code, _) = hotline(
        &[
            "user",
            "add",
            "--data",
            &d,
            "--username",
            "x1y2z3",
            "--role",
            "qa",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_ne!(code, 0);
    let (code, out) = hotline(
        &[
            "user",
            "add",
            "--data",
            &d,
            "--username",
            "x1y2z3",
            "--role",
            "qa",
        ],
        None,
    );
    assert_ne!(code, 0);
    assert!(out.contains("--password-stdin"), "{out}");
    // A forgotten admin password is reset at the console.
    let (code, out) = hotline(
        &[
            "user",
            "reset-password",
            "--data",
            &d,
            "--username",
            "admin",
            "--password-stdin",
        ],
        Some("Console-reset-789\n"),
    );
    assert_eq!(code, 0, "{out}");

    let app = TestApp::start_in(dir).await;
    let s = app.login("zhou", "Console-pass-123").await;
    assert_eq!(s.body["role"], "operator");
    assert_eq!(s.body["must_change_password"], true);
    let s = app.login("xlclerk", "Console-pass-456").await;
    assert_eq!(s.body["role"], "unit");
    let s = app.login("admin", "Console-reset-789").await;
    assert_eq!(s.body["must_change_password"], true);
}

/// `hotline serve` as the box runs it: prints where it listens, logs to DIR/logs without
/// personal data, and on SIGTERM finishes and closes the database.
#[tokio::test]
async fn serve_stops_cleanly_on_sigterm_and_logs_no_personal_data() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut port = None;
    let mut code = None;
    let mut printed = String::new();
    for _ in 0..40 {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        printed.push_str(&line);
        if let Some(rest) = line.split("https://127.0.0.1:").nth(1) {
            port = rest.trim().parse::<u16>().ok();
        }
        if let Some(c) = line.split("setup code: ").nth(1) {
            code = Some(c.trim().to_string());
            break;
        }
    }
    let port = port.unwrap_or_else(|| panic!("no listening line in:\n{printed}"));
    let code = code.unwrap_or_else(|| panic!("no setup code in:\n{printed}"));
    assert!(
        printed.contains("SHA-256"),
        "fingerprints are printed:\n{printed}"
    );

    let ca = std::fs::read(hotline::http::tls::ca_path(dir.path())).unwrap();
    let c = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{port}");
    assert_eq!(
        c.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = c
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"code": code, "username": "admin", "password": "Lantern-pass-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Personal data in a query string must never reach the log.
    let _ = c
        .get(format!("{base}/api/v1/orders?phone=13812345678&q=张三"))
        .send()
        .await
        .unwrap();

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");

    // The database was closed: it opens again, with the admin in it.
    let store = hotline::store::Store::open(dir.path()).unwrap();
    let n = store.read(hotline::store::users::count).unwrap();
    assert_eq!(n, 1);

    let logs: String = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(logs.contains("server started"), "{logs}");
    assert!(
        logs.contains("/api/v1/setup"),
        "requests are logged by route"
    );
    assert!(logs.contains("stopped"), "{logs}");
    for secret in ["13812345678", "张三", "Lantern-pass-2026", &code] {
        assert!(!logs.contains(secret), "log leaks {secret}");
    }
}
