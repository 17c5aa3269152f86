//! Issue 8, point 4: a full disk is survived. The data directory is a size-limited tmpfs
//! (CI runs as root); it is filled up while people work, then space is freed: clear errors
//! meanwhile, reading goes on, writing resumes by itself, nothing acknowledged is lost and
//! the audit chain is intact.

use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use hotline::domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_code};
use crate::orders::order_body;

/// A mounted tmpfs, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then_some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the disk is full.
fn fill(path: &std::path::Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5au8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let small = [0x5au8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
}

async fn intake(s: &Session, i: usize) -> reqwest::Response {
    s.post(
        "/api/v1/orders",
        order_body(&format!("1390000{i:04}"), &format!("第 {i} 件：路灯不亮")),
    )
    .await
}

#[tokio::test]
async fn a_full_disk_is_survived() {
    let Some(fs) = Tmpfs::mount("40m") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must mount a tmpfs for this test"
        );
        eprintln!("full-disk test skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let data = fs.dir.path().join("data");
    let work = tempfile::TempDir::new_in(fs.dir.path()).unwrap();
    let app = TestApp::start_with(work, hotline::http::server::Limits::default()).await;
    let _ = data;
    let admin = app.admin().await;
    let op = app.user(&admin, "op1", Role::Operator).await;
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    for i in 0..20 {
        let r = intake(&op, i).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        acknowledged.push((
            v["id"].as_u64().unwrap(),
            v["number"].as_str().unwrap().to_string(),
        ));
    }

    // The disk fills up (another program's file, say) while operators keep registering.
    let filler = app.data().join("filler.bin");
    fill(&filler);
    let mut refused = None;
    for i in 20..400 {
        let r = intake(&op, i).await;
        match r.status() {
            StatusCode::CREATED => {
                let v: Value = r.json().await.unwrap();
                acknowledged.push((
                    v["id"].as_u64().unwrap(),
                    v["number"].as_str().unwrap().to_string(),
                ));
            }
            StatusCode::INSUFFICIENT_STORAGE | StatusCode::SERVICE_UNAVAILABLE => {
                let v: Value = r.json().await.unwrap();
                refused = Some(v);
                break;
            }
            other => panic!(
                "intake on a full disk answered {other}: {}",
                r.text().await.unwrap()
            ),
        }
    }
    let refused = refused.expect("a full disk must refuse writes");
    eprintln!(
        "disk full after {} acknowledged orders; first refusal: {refused}",
        acknowledged.len()
    );
    // Within moments the answer is the plain one: 磁盘空间不足.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = intake(&op, 999).await;
        if r.status() == StatusCode::INSUFFICIENT_STORAGE {
            let msg = r.json::<Value>().await.unwrap()["error"]["message"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(msg.contains("磁盘空间不足"), "{msg}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never said 磁盘空间不足: {refused}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Reading goes on: orders, lists, the home page (the view log waits for space).
    for (id, number) in &acknowledged {
        let r = op.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["number"], number.as_str());
    }
    let page = op.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("磁盘空间不足"));
    assert_eq!(op.get("/orders").await.status(), StatusCode::OK);
    // Health says so, and the admin's home says what to do.
    let r = op.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json::<Value>().await.unwrap()["store"], "disk_full");
    let home = admin.get("/admin").await.text().await.unwrap();
    assert!(
        home.contains("磁盘空间不足，系统已暂停保存新数据") && home.contains("删除多余的旧备份")
    );
    // An action on an order is refused the same way, and changes nothing.
    let (id0, _) = acknowledged[0];
    let r = op
        .post(
            &format!("/api/v1/orders/{id0}/actions/withdraw"),
            json!({"note": "测试"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(error_code(r).await, "disk_full");

    // Space comes back: writing resumes by itself, no restart.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if op.get("/healthz").await.status() == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the store did not recover once space was back"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for i in 400..410 {
        let r = intake(&op, i).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        acknowledged.push((
            v["id"].as_u64().unwrap(),
            v["number"].as_str().unwrap().to_string(),
        ));
    }
    let v = crate::orders::get(&op, id0).await;
    assert_ne!(
        v["state"], "withdrawn",
        "the refused action changed nothing"
    );
    assert!(
        !admin
            .get("/admin")
            .await
            .text()
            .await
            .unwrap()
            .contains("磁盘空间不足，系统已暂停")
    );

    // Nothing acknowledged is lost, after a restart too, and the audit chain holds.
    let work = app.stop().await;
    let app = TestApp::start_in(work).await;
    let op = app.login("op1", crate::helpers::NEW_PASSWORD).await;
    for (id, number) in &acknowledged {
        let v = crate::orders::get(&op, *id).await;
        assert_eq!(v["number"], number.as_str());
    }
    let store = &app.running.as_ref().unwrap().app.store;
    let verdict = hotline::service::audit::verify(store).unwrap();
    assert!(matches!(
        verdict,
        hotline::service::audit::Verdict::Intact { .. }
    ));
    let work = app.stop().await;
    drop(work);
    drop(fs);
}
