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
    // What an interrupted backup left behind is cleared by the next one.
    let stale = c
        .app
        .data()
        .join("backups")
        .join("hotline-20261129-010203.tmp");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"half a copy").unwrap();
    // The button pressed twice at once: the second waits for the first, both are written.
    let again = {
        let client = c.admin.client.clone();
        let url = c.admin.url("/api/v1/admin/backups");
        let csrf = c.admin.csrf.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .header("x-csrf-token", csrf)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let r = c
        .admin
        .post("/api/v1/admin/backups", serde_json::json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(again.await.unwrap(), StatusCode::CREATED);
    assert!(!stale.exists(), "the stale temp file is removed");
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
    // The backup left derived data out; the restored database made all of it anew.
    {
        let store = hotline::store::Store::open(dir.path()).unwrap();
        store
            .read(|tx| -> Result<(), hotline::store::StoreError> {
                assert!(!hotline::store::orders::derived(tx)?.0.is_empty());
                crate::helpers::assert_derived_in_step(tx)?;
                Ok(())
            })
            .unwrap();
    }
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

#[tokio::test]
async fn backups_are_copied_to_the_usb_path_encrypted_to_the_office_key() {
    use crate::helpers::TestApp;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let usb = tempfile::tempdir().unwrap();
    let usb_path = usb.path().to_str().unwrap().to_string();
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let save = |time: &'static str, dir: String, key: String| {
        let admin = &admin;
        async move {
            admin
                .form(
                    "/admin/backups/settings",
                    &[
                        ("backup_time", time),
                        ("backup_copy_dir", &dir),
                        ("backup_age_recipient", &key),
                    ],
                )
                .await
        }
    };

    // Bad input is refused with the reason on the page and changes nothing.
    for (time, dir, key, reason) in [
        ("25:00", String::new(), String::new(), "备份时间须为"),
        ("02:30", usb_path.clone(), String::new(), "必须加密"),
        (
            "02:30",
            usb_path.clone(),
            "age1notakey".to_string(),
            "必须加密",
        ),
        (
            "02:30",
            "relative/dir".to_string(),
            public.clone(),
            "绝对路径",
        ),
    ] {
        let r = save(time, dir, key).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains(reason), "{reason}");
    }
    let s: Value = admin.get("/api/v1/settings").await.json().await.unwrap();
    assert_eq!(s["backup_time"], "02:30");
    assert_eq!(s["backup_copy_dir"], "");

    let r = save("03:15", usb_path.clone(), public.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s: Value = admin.get("/api/v1/settings").await.json().await.unwrap();
    assert_eq!(s["backup_time"], "03:15");

    let r = admin
        .post("/api/v1/admin/backups", serde_json::json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    let name = made["name"].as_str().unwrap();
    let list: Value = admin
        .get("/api/v1/admin/backups")
        .await
        .json()
        .await
        .unwrap();
    let copy = list["last_run"]["copy"].as_str().unwrap().to_string();
    assert_eq!(
        copy,
        format!("{usb_path}/hotline-backups/{name}.age"),
        "{list}"
    );

    // Only the office key opens it, and it is the backup byte for byte.
    let encrypted = std::fs::read(&copy).unwrap();
    assert!(encrypted.starts_with(b"age-encryption.org/v1"));
    let decryptor = age::Decryptor::new_buffered(&encrypted[..]).unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap(),
        &mut plain,
    )
    .unwrap();
    let original = std::fs::read(app.data().join("backups").join(name)).unwrap();
    assert_eq!(plain, original);
    let stranger = age::x25519::Identity::generate();
    assert!(
        age::Decryptor::new_buffered(&encrypted[..])
            .unwrap()
            .decrypt(std::iter::once(&stranger as &dyn age::Identity))
            .is_err()
    );
    let page = admin.get("/admin/backups").await.text().await.unwrap();
    assert!(page.contains("已就绪"), "{page}");
    assert!(page.contains("每天 03:15"));

    // Stick pulled out: the backup still succeeds, the missing copy is reported.
    let gone = usb.path().to_path_buf();
    drop(usb);
    assert!(!gone.exists());
    let r = admin
        .post("/api/v1/admin/backups", serde_json::json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let list: Value = admin
        .get("/api/v1/admin/backups")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["last_run"]["ok"], true);
    assert!(list["last_run"]["copy"].is_null());
    assert!(
        list["last_run"]["copy_error"]
            .as_str()
            .unwrap()
            .contains("U 盘未插入"),
        "{list}"
    );
    let page = admin.get("/admin/backups").await.text().await.unwrap();
    assert!(page.contains("请插入 U 盘"));
    let home = admin.get("/admin").await.text().await.unwrap();
    assert!(home.contains("最近一次备份未能写入 U 盘"), "{home}");
    assert!(home.contains("未插入"));
    let metrics = admin.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("hotline_backup_copy_last_ok 0"),
        "{metrics}"
    );
    assert!(metrics.contains("hotline_backup_last_ok 1"));
}

#[test]
fn an_encrypted_usb_copy_restores_with_the_office_key_file() {
    let b = crate::install::TestBox::new();
    let key = b.dir.path().join("office.agekey");
    let (code, out) = b.run(&["backup", "keygen", "--out", key.to_str().unwrap()], false);
    assert_eq!(code, 0, "{out}");
    let public = out
        .split("public key (enter it on the backups page): ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert!(public.starts_with("age1"), "{public}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Never overwrites a key.
    let (code, _) = b.run(&["backup", "keygen", "--out", key.to_str().unwrap()], false);
    assert_ne!(code, 0);

    let plain = b.dir.path().join("hotline-20261130-090000.hlbak");
    let (code, out) = b.run(&["backup", "--out", plain.to_str().unwrap()], true);
    assert_eq!(code, 0, "{out}");
    let usb = tempfile::tempdir().unwrap();
    let copy = hotline::service::backups::copy_encrypted(&plain, usb.path(), &public).unwrap();

    let fresh = b.dir.path().join("new-box");
    let args = [
        "restore",
        copy.to_str().unwrap(),
        "--data",
        fresh.to_str().unwrap(),
    ];
    let (code, out) = b.run(&args, false);
    assert_ne!(code, 0);
    assert!(out.contains("--identity"), "{out}");
    let wrong = b.dir.path().join("other.agekey");
    b.run(
        &["backup", "keygen", "--out", wrong.to_str().unwrap()],
        false,
    );
    let mut with_wrong = args.to_vec();
    with_wrong.extend(["--identity", wrong.to_str().unwrap()]);
    let (code, out) = b.run(&with_wrong, false);
    assert_ne!(code, 0);
    assert!(out.contains("cannot decrypt"), "{out}");
    assert!(!fresh.join("hotline.redb").exists());

    let mut with_key = args.to_vec();
    with_key.extend(["--identity", key.to_str().unwrap()]);
    let (code, out) = b.run(&with_key, false);
    assert_eq!(code, 0, "{out}");
    assert!(fresh.join("hotline.redb").exists());
    assert!(!fresh.join("restore-decrypted.hlbak").exists());
    let (code, out) = b.run(
        &["audit", "verify", "--data", fresh.to_str().unwrap()],
        false,
    );
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn the_nightly_backup_runs_at_the_configured_time_and_catches_up() {
    use crate::helpers::TestApp;
    use hotline::service::backups::nightly;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let running = app.running.as_ref().unwrap().app.clone();
    // A fresh box has no backup: the first tick catches up at once (Monday 09:00).
    assert!(nightly(&running).unwrap().is_ok());
    assert!(nightly(&running).is_none(), "not twice");

    let r = admin
        .form(
            "/admin/backups/settings",
            &[
                ("backup_time", "23:45"),
                ("backup_copy_dir", ""),
                ("backup_age_recipient", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.clock.advance_secs(14 * 3600 + 44 * 60); // 23:44
    assert!(nightly(&running).is_none(), "before the configured time");
    app.clock.advance_secs(2 * 60); // 23:46
    let info = nightly(&running).unwrap().unwrap();
    assert_eq!(info.name, "hotline-20261130-234600.hlbak");
    app.clock.advance_secs(60);
    assert!(nightly(&running).is_none(), "once a night");
    // Off for more than 26 hours (the box was switched off): caught up at the next tick.
    app.clock.advance_secs(27 * 3600);
    let info = nightly(&running).unwrap().unwrap();
    assert_eq!(info.name, "hotline-20261202-024700.hlbak");
}
