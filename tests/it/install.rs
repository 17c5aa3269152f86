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
            "Admin-pass-123",
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

    /// Starts `serve` on a free loopback port (plain HTTP); returns once it listens.
    pub fn serve(&self) -> (Child, u16) {
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
        (child, port)
    }
}

pub fn stop(mut child: Child) {
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

    // Forced with a reason: installed, and the state says so.
    let (code, out) = b.apply(&old, &["--force", "--reason", "9.9.9 打印异常，退回"]);
    assert_eq!(code, 0, "{out}");
    assert!(b.state().unwrap().forced);
    assert_eq!(b.installed(), b.newer_binary("0.0.1"));
}
