//! Update bundles: signed by a compiled-in key, for this target, intact — or refused with a reason.

use std::process::Command;

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

#[test]
fn bundles_verify_and_every_refusal_has_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let dev_key = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/dev-update.key");
    let binary = env!("CARGO_BIN_EXE_hotline");
    let target = hotline::update::TARGET;

    let (code, out) = hotline(&[
        "update",
        "sign",
        "--key",
        dev_key,
        "--binary",
        binary,
        "--version",
        "0.2.0",
        "--target",
        target,
        "--out",
        &d("good.hotline-update"),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = hotline(&["update", "verify", &d("good.hotline-update")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0.2.0"), "{out}");

    // Another target.
    hotline(&[
        "update",
        "sign",
        "--key",
        dev_key,
        "--binary",
        binary,
        "--version",
        "0.2.0",
        "--target",
        "aarch64-unknown-linux-musl",
        "--out",
        &d("arm.hotline-update"),
    ]);
    let (code, out) = hotline(&["update", "verify", &d("arm.hotline-update")]);
    assert_eq!(code, 1);
    assert!(out.contains("aarch64"), "{out}");

    // A key the box does not trust.
    let (code, _) = hotline(&["update", "keygen", "--out", &d("foreign")]);
    assert_eq!(code, 0);
    hotline(&[
        "update",
        "sign",
        "--key",
        &d("foreign/update.key"),
        "--binary",
        binary,
        "--version",
        "0.2.0",
        "--target",
        target,
        "--out",
        &d("foreign.hotline-update"),
    ]);
    let (code, out) = hotline(&["update", "verify", &d("foreign.hotline-update")]);
    assert_eq!(code, 1);
    assert!(out.contains("trusted"), "{out}");

    // A flipped byte in the binary; a flipped byte in the header; not a bundle at all.
    let good = std::fs::read(d("good.hotline-update")).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    std::fs::write(d("tampered.hotline-update"), &bad).unwrap();
    let (code, out) = hotline(&["update", "verify", &d("tampered.hotline-update")]);
    assert_eq!(code, 1);
    assert!(out.contains("tampered"), "{out}");
    let mut bad = good.clone();
    let pos = 12 + good[12..].windows(5).position(|w| w == b"0.2.0").unwrap();
    bad[pos + 2] = b'9';
    std::fs::write(d("header.hotline-update"), &bad).unwrap();
    let (code, out) = hotline(&["update", "verify", &d("header.hotline-update")]);
    assert_eq!(code, 1);
    assert!(out.contains("signature"), "{out}");
    std::fs::write(d("junk.hotline-update"), b"hello").unwrap();
    let (code, out) = hotline(&["update", "verify", &d("junk.hotline-update")]);
    assert_eq!(code, 1);
    assert!(out.contains("not an update bundle"), "{out}");
    // The library agrees, and keeps the binary intact.
    let (h, bin) = hotline::update::verify(&good).unwrap();
    assert_eq!(h.version, "0.2.0");
    assert_eq!(bin, std::fs::read(binary).unwrap().as_slice());
    assert_eq!(
        hotline::update::TRUSTED_KEYS.len(),
        hotline::update::RELEASE_KEYS.len() + 1
    );
}

/// Issue 8, point 7: the development key (private half in git) is trusted only by test
/// builds; a build without the office's release key installs nothing and the page says so.
/// (`scripts/static-check.sh` proves the release binary refuses a dev-signed bundle.)
#[tokio::test]
async fn only_the_offices_key_installs_updates() {
    let dev_pub =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/keys/dev-update.pub"))
            .unwrap();
    let dev = dev_pub
        .lines()
        .find(|l| !l.starts_with('#') && l.trim().len() == 64)
        .unwrap()
        .trim()
        .to_string();
    assert!(
        !hotline::update::RELEASE_KEYS.contains(&dev.as_str()),
        "the development key is never a release key"
    );
    assert!(hotline::update::TRUSTED_KEYS.contains(&dev.as_str()));
    let app = crate::helpers::TestApp::new().await;
    let admin = app.admin().await;
    let page = admin.get("/admin/updates").await.text().await.unwrap();
    if hotline::update::RELEASE_KEYS.is_empty() {
        assert!(page.contains("没有内置本单位的发布密钥"), "{page}");
    }
    assert!(page.contains("测试版本"));
}
