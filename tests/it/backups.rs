//! Backups: online while writing, verified, tamper-detected, restored into place.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::orders::{Centre, create, order_body};

fn hotline(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn online_backup_verify_tamper_and_restore() {
    let c = Centre::new().await;
    for i in 0..5 {
        create(
            &c.op,
            order_body(&format!("1301234000{i}"), &format!("备份前{i}")),
        )
        .await;
    }
    // Writes keep going while the backup is taken.
    let mut writers = Vec::new();
    for i in 0..8 {
        let client = c.op.client.clone();
        let url = c.op.url("/api/v1/orders");
        let csrf = c.op.csrf.clone();
        let body = order_body(&format!("1301235000{i}"), "备份期间");
        writers.push(tokio::spawn(async move {
            client
                .post(url)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let r = c
        .admin
        .post("/api/v1/admin/backups", serde_json::json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    for w in writers {
        assert_eq!(w.await.unwrap(), StatusCode::CREATED);
    }
    let name = made["name"].as_str().unwrap().to_string();
    assert!(
        name.starts_with("hotline-20261130-") && name.ends_with(".hlbak"),
        "{name}"
    );
    // Every catalogued table is in the backup, and only those.
    let names: Vec<&str> = made["manifest"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    let all: Vec<&str> = hotline::store::tables::ALL.iter().map(|t| t.name).collect();
    assert_eq!(names, all);
    let orders_in_backup = made["manifest"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "orders-v1")
        .unwrap()[1]
        .as_u64()
        .unwrap();
    assert!((5..=13).contains(&orders_in_backup));

    let list: Value = c
        .admin
        .get("/api/v1/admin/backups")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["last_run"]["ok"], true);
    assert_eq!(
        c.op.get("/api/v1/admin/backups").await.status(),
        StatusCode::FORBIDDEN
    );
    let page = c.admin.get("/admin/backups").await.text().await.unwrap();
    assert!(page.contains(&name));
    let downloaded = c
        .admin
        .get(&format!("/admin/backups/{name}"))
        .await
        .bytes()
        .await
        .unwrap();
    let file = c.app.data().join("backups").join(&name);
    assert_eq!(
        downloaded.as_ref(),
        std::fs::read(&file).unwrap().as_slice()
    );

    let f = file.to_str().unwrap().to_string();
    let (code, out) = hotline(&["backup", "verify", &f]);
    assert_eq!(code, 0, "{out}");
    // Restore refuses while the server holds the data.
    let live = c.app.data();
    let (code, out) = hotline(&["restore", &f, "--data", live.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(out.contains("in use"), "{out}");

    // A damaged copy is named as such.
    let bad = live.join("damaged.hlbak");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0xFF;
    std::fs::write(&bad, &bytes).unwrap();
    let (code, out) = hotline(&["backup", "verify", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BAD"), "{out}");
    let (code, _) = hotline(&[
        "restore",
        bad.to_str().unwrap(),
        "--data",
        "/tmp/never-used-hotline",
    ]);
    assert_ne!(code, 0);

    // Restore into a fresh directory and serve from it.
    let Centre { app, .. } = c;
    let _old = app.stop().await;
    let fresh = tempfile::tempdir().unwrap();
    let (code, out) = hotline(&["restore", &f, "--data", fresh.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = hotline(&["audit", "verify", "--data", fresh.path().to_str().unwrap()]);
    assert_eq!(code, 0, "the restored audit chain is intact: {out}");
    let app = crate::helpers::TestApp::start_in(fresh).await;
    let s = app.login("op1", crate::helpers::NEW_PASSWORD).await;
    let all: Value = s.get("/api/v1/orders").await.json().await.unwrap();
    assert_eq!(all["total"].as_u64().unwrap(), orders_in_backup);
    let found: Value = s
        .get(&format!(
            "/api/v1/orders?q={}",
            crate::helpers::urlenc("备份前")
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["total"], 5,
        "the search index is rebuilt after a restore"
    );
    // Offline backup of a stopped box.
    let dir = app.stop().await;
    let out_file = dir.path().join("offline.hlbak");
    let (code, out) = hotline(&[
        "backup",
        "--data",
        dir.path().to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        hotline(&["backup", "verify", out_file.to_str().unwrap()]).0,
        0
    );
}

#[tokio::test]
async fn metrics_report_requests_orders_backups_and_certificate() {
    let c = Centre::new().await;
    create(&c.op, order_body("13012349999", "指标")).await;
    c.admin
        .post("/api/v1/admin/backups", serde_json::json!({}))
        .await;
    let r = c.admin.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    for needle in [
        "hotline_build_info{version=",
        "hotline_http_requests_total{class=\"2xx\"}",
        "hotline_orders{state=\"registered\"} 1",
        "hotline_backup_last_ok 1",
        "hotline_backup_age_seconds 0",
        "hotline_certificate_expiry_timestamp_seconds",
        "hotline_disk_free_bytes",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}
