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
    for sub in ["serve", "user", "audit"] {
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
