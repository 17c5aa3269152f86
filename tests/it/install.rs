//! Installing updates: the binary is copied to a temp "box", bundles are signed with the
//! development key, and `hotline update apply` / `hotline serve` run as real processes.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hotline::update::install::{Phase, UpdateState, read_state};

pub struct TestBox {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub data: PathBuf,
    pub original: Vec<u8>,
}

impl TestBox {
    /// A box with the binary in `bin/hotline` and a database with one admin.
    pub fn new() -> TestBox {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        let bin = dir.path().join("bin/hotline");
        std::fs::copy(env!("CARGO_BIN_EXE_hotline"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        // A database as the first `serve` leaves it.
        drop(hotline::store::Store::open(&data).unwrap());
        let b = TestBox {
            original: std::fs::read(&bin).unwrap(),
            dir,
            bin,
            data,
        };
        let (code, out) = b.run_stdin(
            &[
                "user",
                "add",
                "--username",
                "admin1",
                "--role",
                "admin",
                "--password-stdin",
            ],
            true,
            "Chief-pass-123",
        );
        assert_eq!(code, 0, "{out}");
        b
    }

    pub fn command(&self, args: &[&str], with_data: bool) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args);
        if with_data {
            c.arg("--data").arg(&self.data);
        }
        c.env_remove("NOTIFY_SOCKET")
            .env_remove("HOTLINE_DATA")
            .env_remove("HOTLINE_LISTEN");
        c
    }

    fn run_stdin(&self, args: &[&str], with_data: bool, input: &str) -> (i32, String) {
        use std::io::Write as _;
        let mut child = self
            .command(args, with_data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    pub fn run(&self, args: &[&str], with_data: bool) -> (i32, String) {
        self.run_stdin(args, with_data, "")
    }

    /// Signs `binary` as `version` for this target with the development key.
    pub fn bundle(&self, name: &str, binary: &[u8], version: &str) -> PathBuf {
        let src = self.dir.path().join(format!("{name}.bin"));
        std::fs::write(&src, binary).unwrap();
        let out = self.dir.path().join(format!("{name}.hotline-update"));
        let (code, text) = self.run(
            &[
                "update",
                "sign",
                "--key",
                concat!(env!("CARGO_MANIFEST_DIR"), "/keys/dev-update.key"),
                "--binary",
                src.to_str().unwrap(),
                "--version",
                version,
                "--target",
                hotline::update::TARGET,
                "--out",
                out.to_str().unwrap(),
            ],
            false,
        );
        assert_eq!(code, 0, "{text}");
        out
    }

    /// The real binary with a marker appended: runs the same, hashes differently.
    pub fn newer_binary(&self, marker: &str) -> Vec<u8> {
        let mut b = self.original.clone();
        b.extend_from_slice(format!("\n# {marker}\n").as_bytes());
        b
    }

    pub fn installed(&self) -> Vec<u8> {
        std::fs::read(&self.bin).unwrap()
    }

    pub fn previous(&self) -> Option<Vec<u8>> {
        std::fs::read(self.dir.path().join("bin/hotline.previous")).ok()
    }

    pub fn state(&self) -> Option<UpdateState> {
        read_state(&self.data)
    }

    pub fn apply(&self, bundle: &Path, extra: &[&str]) -> (i32, String) {
        let mut args = vec!["update", "apply", bundle.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.run(&args, true)
    }

    /// Starts `serve` over HTTPS on a free loopback port; the receiver yields the port of
    /// every (re)start, as the process prints it.
    pub fn serve_tls(&self) -> (Server, std::sync::mpsc::Receiver<u16>) {
        let mut child = self
            .command(&["serve", "--listen", "127.0.0.1:0"], true)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(rest) = line.split("https://127.0.0.1:").nth(1)
                    && let Ok(port) = rest.trim().parse::<u16>()
                {
                    let _ = tx.send(port);
                }
            }
        });
        (Server(Some(child)), rx)
    }

    /// Starts `serve` on a free loopback port (plain HTTP); returns once it listens.
    pub fn serve(&self) -> (Server, u16) {
        let mut child = self
            .command(&["serve", "--listen", "127.0.0.1:0", "--plain-http"], true)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("serve ended before it listened")
                .unwrap();
            if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
                break rest.trim().parse::<u16>().unwrap();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        (Server(Some(child)), port)
    }
}

/// A server process that is killed if the test ends early (a panicking test must not leave
/// it running, holding the test harness's output pipe).
pub struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn stop(mut server: Server) {
    let Some(mut child) = server.0.take() else {
        return;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("serve did not stop on SIGTERM");
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn apply_swaps_keeps_the_previous_binary_and_the_first_start_confirms() {
    let b = TestBox::new();
    let new = b.newer_binary("9.9.9");
    let bundle = b.bundle("good", &new, "9.9.9");
    let (code, out) = b.apply(&bundle, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(b.installed(), new, "the new binary is in place");
    assert_eq!(
        b.previous().as_deref(),
        Some(&b.original[..]),
        "previous kept"
    );
    let state = b.state().unwrap();
    assert_eq!(state.phase, Phase::Pending);
    assert_eq!(state.to_version, "9.9.9");
    // Nothing staged or copied is left behind.
    assert!(!b.dir.path().join("bin/.hotline.staged").exists());
    assert!(!b.data.join("update-check").exists());
    // The pre-update backup verifies.
    let backup = state.backup.clone().unwrap();
    assert!(backup.starts_with(b.data.join("backups/pre-update")));
    let (code, out) = b.run(&["backup", "verify", backup.to_str().unwrap()], false);
    assert_eq!(code, 0, "{out}");

    // The first start of the new binary checks itself and confirms.
    let (child, port) = b.serve();
    wait_for("the update to be confirmed", || {
        b.state()
            .is_some_and(|s| s.phase == Phase::Confirmed && s.audited)
    });
    let health = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(health.is_ok());
    stop(child);
    let (code, out) = b.run(&["audit", "verify"], true);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_binary_that_fails_its_self_check_is_refused_and_nothing_changes() {
    let b = TestBox::new();
    let broken = b"#!/bin/sh\necho 'cannot start' >&2\nexit 3\n";
    let bundle = b.bundle("broken", broken, "9.9.9");
    let (code, out) = b.apply(&bundle, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("自检两次均未通过"), "{out}");
    assert_eq!(b.installed(), b.original);
    assert!(b.previous().is_none());
    assert!(b.state().is_none());
    assert!(!b.dir.path().join("bin/.hotline.staged").exists());
}

#[test]
fn two_failed_starts_roll_back_to_the_previous_binary_by_itself() {
    let b = TestBox::new();
    let new = b.newer_binary("9.9.9");
    let bundle = b.bundle("good", &new, "9.9.9");
    let (code, out) = b.apply(&bundle, &[]);
    assert_eq!(code, 0, "{out}");

    // The new binary cannot start here: its port is taken. It tries, re-executes itself
    // for a second try, then puts the previous binary back and restarts into it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut child = b
        .command(
            &[
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--plain-http",
            ],
            true,
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    wait_for("the failed starts to end", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    assert!(!status.unwrap().success());
    assert_eq!(b.installed(), b.original, "the previous binary is back");
    let state = b.state().unwrap();
    assert_eq!(state.phase, Phase::RolledBack);
    assert_eq!(state.failed_starts, 2);
    let note = state.note.clone().unwrap();
    assert!(note.contains("连续 2 次启动失败"), "{note}");
    assert!(note.contains("127.0.0.1"), "names the last failure: {note}");

    // Once the port is free the previous binary serves, and the rollback is audited once.
    drop(taken);
    let (child, _) = b.serve();
    wait_for("the rollback to be audited", || {
        b.state().is_some_and(|s| s.audited)
    });
    stop(child);
}

#[test]
fn downgrades_need_force_and_a_reason_and_tampered_bundles_change_nothing() {
    let b = TestBox::new();
    let old = b.bundle("old", &b.newer_binary("0.0.1"), "0.0.1");
    let (code, out) = b.apply(&old, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("不高于当前版本"), "{out}");
    let (code, out) = b.apply(&old, &["--force"]);
    assert_eq!(code, 1);
    assert!(out.contains("写明原因"), "{out}");
    assert_eq!(b.installed(), b.original);

    // A bundle whose binary was altered after signing.
    let good = b.bundle("good", &b.newer_binary("9.9.9"), "9.9.9");
    let mut bytes = std::fs::read(&good).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    let tampered = b.dir.path().join("tampered.hotline-update");
    std::fs::write(&tampered, &bytes).unwrap();
    let (code, out) = b.apply(&tampered, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("被改动过"), "{out}");
    assert_eq!(b.installed(), b.original);
    assert!(b.state().is_none());

    // A bundle signed with a key this build does not trust.
    let keys = b.dir.path().join("foreign-keys");
    let (code, out) = b.run(
        &["update", "keygen", "--out", keys.to_str().unwrap()],
        false,
    );
    assert_eq!(code, 0, "{out}");
    let src = b.dir.path().join("good.bin");
    let foreign = b.dir.path().join("foreign.hotline-update");
    let (code, out) = b.run(
        &[
            "update",
            "sign",
            "--key",
            keys.join("update.key").to_str().unwrap(),
            "--binary",
            src.to_str().unwrap(),
            "--version",
            "9.9.9",
            "--target",
            hotline::update::TARGET,
            "--out",
            foreign.to_str().unwrap(),
        ],
        false,
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = b.apply(&foreign, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("不是由受信任的密钥签名"), "{out}");
    assert_eq!(b.installed(), b.original);
    assert!(b.state().is_none());

    // Forced with a reason: installed, and the state says so.
    let (code, out) = b.apply(&old, &["--force", "--reason", "9.9.9 打印异常，退回"]);
    assert_eq!(code, 0, "{out}");
    assert!(b.state().unwrap().forced);
    assert_eq!(b.installed(), b.newer_binary("0.0.1"));
}

async fn get_text(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

async fn get_json(client: &reqwest::Client, url: String) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_installs_a_bundle_from_the_usb_stick_and_the_box_restarts_into_it() {
    use reqwest::StatusCode;
    use serde_json::{Value, json};
    let b = TestBox::new();
    let (child, ports) = b.serve_tls();
    let port = ports.recv_timeout(Duration::from_secs(60)).unwrap();
    let ca = std::fs::read(b.data.join("tls/ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .tls_built_in_root_certs(false)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = |port: u16| format!("https://127.0.0.1:{port}");
    let r = client
        .post(format!("{}/api/v1/session", base(port)))
        .json(&json!({"username": "admin1", "password": "Chief-pass-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{}/api/v1/session/password", base(port)))
        .header("x-csrf-token", &csrf)
        .json(&json!({"old_password": "Chief-pass-123", "new_password": "Chief-pass-456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // The stick: one good bundle, one tampered.
    let usb = b.dir.path().join("media/usb0");
    std::fs::create_dir_all(&usb).unwrap();
    let new = b.newer_binary("9.9.9");
    let good = b.bundle("good", &new, "9.9.9");
    std::fs::copy(&good, usb.join("hotline-9.9.9.hotline-update")).unwrap();
    // A small bundle, altered after signing.
    let mut bad = std::fs::read(b.bundle("small", b"#!/bin/sh\nexit 0\n", "9.9.8")).unwrap();
    let n = bad.len();
    bad[n - 10] ^= 1;
    std::fs::write(usb.join("hotline-evil.hotline-update"), &bad).unwrap();
    let mut settings: Value = get_json(&client, format!("{}/api/v1/settings", base(port))).await;
    settings["update_paths"] = json!([b.dir.path().join("media").to_str().unwrap()]);
    let r = client
        .put(format!("{}/api/v1/settings", base(port)))
        .header("x-csrf-token", &csrf)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    let page = get_text(&client, format!("{}/admin/updates", base(port))).await;
    assert!(page.contains("hotline-9.9.9.hotline-update"), "{page}");
    assert!(page.contains("升级到 9.9.9"), "{page}");
    assert!(
        page.contains("签名不符"),
        "the tampered one is flagged: {page}"
    );
    assert!(page.contains("停止服务"), "the warning is on the page");

    // An upload that does not verify is refused and not kept.
    let form = reqwest::multipart::Form::new().part(
        "bundle",
        reqwest::multipart::Part::bytes(bad.clone()).file_name("x.hotline-update"),
    );
    let r = client
        .post(format!("{}/admin/updates/upload?csrf={csrf}", base(port)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("签名不符"));
    assert!(
        !b.data.join("updates").exists()
            || std::fs::read_dir(b.data.join("updates"))
                .unwrap()
                .next()
                .is_none()
    );

    // 升级 needs the warning ticked; then it installs and restarts.
    let path = usb.join("hotline-9.9.9.hotline-update");
    let apply = |confirm: bool| {
        let mut fields = vec![
            ("csrf", csrf.clone()),
            ("path", path.to_str().unwrap().to_string()),
        ];
        if confirm {
            fields.push(("confirm", "1".to_string()));
        }
        client
            .post(format!("{}/admin/updates/apply", base(port)))
            .form(&fields)
            .send()
    };
    let r = apply(false).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b.installed(), b.original);
    let r = apply(true).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("系统正在重启"));

    // The same process restarts into the new binary, checks itself and confirms.
    let port = ports.recv_timeout(Duration::from_secs(90)).unwrap();
    wait_for("the new binary to confirm", || {
        b.state()
            .is_some_and(|s| s.phase == Phase::Confirmed && s.audited)
    });
    assert_eq!(b.installed(), new);
    assert_eq!(b.previous().as_deref(), Some(&b.original[..]));
    let page = get_text(&client, format!("{}/admin/updates", base(port))).await;
    assert!(page.contains("启动自检通过"), "{page}");
    let audit: Value = get_json(&client, format!("{}/api/v1/audit", base(port))).await;
    let text = audit.to_string();
    assert!(text.contains("update.installed"), "{text}");
    assert!(text.contains("update.confirmed"), "{text}");
    stop(child);
}
