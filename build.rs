//! Embeds `web/` (templates and static assets) into the binary and records the version.
//!
//! Static assets get a content hash in their URL and a gzip copy, so the server can answer
//! with immutable caching and precompressed bodies; templates are embedded as strings.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=keys/update-keys.txt");
    println!("cargo:rerun-if-changed=keys/dev-update.pub");
    emit_git_commit(&root);
    println!("cargo:rustc-env=HOTLINE_TARGET={}", env::var("TARGET")?);
    emit_update_keys(&root, &out)?;

    let mut code = String::new();
    code.push_str("pub static TEMPLATES: &[(&str, &str)] = &[\n");
    for file in walk(&root.join("web/templates"))? {
        let rel = rel_name(&root.join("web/templates"), &file);
        writeln!(code, "    ({rel:?}, include_str!({:?})),", file.display())?;
    }
    code.push_str("];\n\n");

    code.push_str("pub static ASSETS: &[Asset] = &[\n");
    for file in walk(&root.join("web/static"))? {
        let rel = rel_name(&root.join("web/static"), &file);
        let bytes = fs::read(&file)?;
        let hash = format!("{:016x}", fnv1a(&bytes));
        let hashed = match rel.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{}.{ext}", &hash[..10]),
            None => format!("{rel}.{}", &hash[..10]),
        };
        let gz_path = out.join(format!("{}.gz", hashed.replace('/', "_")));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&bytes)?;
        let gz = enc.finish()?;
        let gz_expr = if gz.len() + 64 < bytes.len() {
            fs::write(&gz_path, &gz)?;
            format!("Some(include_bytes!({:?}))", gz_path.display())
        } else {
            "None".to_string()
        };
        writeln!(
            code,
            "    Asset {{ name: {rel:?}, hashed: {hashed:?}, mime: {:?}, etag: \"\\\"{hash}\\\"\", body: include_bytes!({:?}), gzip: {gz_expr} }},",
            mime(&rel),
            file.display()
        )?;
    }
    code.push_str("];\n");
    fs::write(out.join("embedded.rs"), code)?;
    Ok(())
}

/// The trusted update keys: hex ed25519 public keys, one per line (at most two slots);
/// `#` starts a comment. The repository's development key (its private half is in git, for
/// the tests) is trusted only with the `dev-update-key` feature, which only test builds turn
/// on; written into `update-keys.txt` it is left out with a warning.
fn emit_update_keys(root: &Path, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let key_lines = |name: &str| -> Vec<String> {
        fs::read_to_string(root.join("keys").join(name))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_lowercase())
            .filter(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect()
    };
    let dev = key_lines("dev-update.pub");
    let mut release: Vec<String> = key_lines("update-keys.txt");
    if release.iter().any(|k| dev.contains(k)) {
        println!(
            "cargo:warning=keys/update-keys.txt holds the development key; it is not trusted in this build"
        );
        release.retain(|k| !dev.contains(k));
    }
    release.truncate(2);
    let dev_trusted = env::var_os("CARGO_FEATURE_DEV_UPDATE_KEY").is_some();
    let mut keys = release.clone();
    if dev_trusted {
        keys.extend(dev.iter().take(1).cloned());
    }
    let list = |v: &[String]| {
        v.iter()
            .map(|k| format!("{k:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    fs::write(
        out.join("update_keys.rs"),
        format!(
            "/// Trusted update signing keys (hex ed25519): the office's release keys from\n\
             /// keys/update-keys.txt, plus the development key in test builds only.\n\
             pub const TRUSTED_KEYS: &[&str] = &[{}];\n\
             /// The office's release keys alone (none: this build installs no update).\n\
             pub const RELEASE_KEYS: &[&str] = &[{}];\n\
             /// Whether the repository's development key is trusted (test builds).\n\
             pub const DEV_KEY_TRUSTED: bool = {dev_trusted};\n",
            list(&keys),
            list(&release),
        ),
    )?;
    Ok(())
}

fn emit_git_commit(root: &Path) {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=HOTLINE_GIT_COMMIT={commit}");
    for p in [".git/HEAD", ".git/refs/heads"] {
        if root.join(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn rel_name(base: &Path, file: &Path) -> String {
    file.strip_prefix(base)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/")
}

fn mime(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// FNV-1a: a content fingerprint for cache busting, not a security hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
