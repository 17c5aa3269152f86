//! Updates from a USB stick (or an uploaded bundle): find bundles, check them, and install
//! one after a pre-update backup. The restart itself is the caller's (see `App::restart`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Actor, App};
use crate::domain::audit::AuditEvent;
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::store::Store;
use crate::update::install::{self, InstallError, UpdateState};
use crate::update::{self as bundle, EXT};

/// Bundles larger than this are not read (the static release binary is ~15 MiB; a debug
/// build, as the tests install, ~130 MiB).
pub const MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;
/// Pre-update backups kept.
const KEEP_PRE_UPDATE: usize = 5;
/// How deep below a mount path bundles are looked for (`/media/USER/STICK/x.hotline-update`).
const SCAN_DEPTH: usize = 3;

impl From<InstallError> for AppError {
    fn from(e: InstallError) -> Self {
        let message = e.to_string();
        match e {
            InstallError::Bundle(_) => AppError::Invalid {
                field: "bundle",
                message,
            },
            InstallError::ForceWithoutReason => AppError::Invalid {
                field: "reason",
                message,
            },
            InstallError::NotNewer { .. } => AppError::conflict("not_newer", message),
            InstallError::Backup(_) | InstallError::SelfCheck(_) | InstallError::Io(_) => {
                AppError::conflict("update_failed", message)
            }
        }
    }
}

/// A bundle as the updates page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// The file; the page posts it back, and only a path the scan lists is installed.
    pub path: String,
    pub name: String,
    /// `usb` or `upload`.
    pub source: &'static str,
    pub bytes: u64,
    pub version: Option<String>,
    pub target: Option<String>,
    /// Whether it verifies (trusted signature, intact, for this box).
    pub valid: bool,
    /// The refusal, when it does not verify.
    pub problem: Option<String>,
    /// Whether it is newer than the running version.
    pub newer: bool,
}

pub fn uploads_dir(data: &Path) -> PathBuf {
    data.join("updates")
}

fn pre_update_dir(data: &Path) -> PathBuf {
    data.join("backups").join("pre-update")
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() && depth > 0 {
            walk(&path, depth - 1, out);
        } else if ft.is_file() && path.extension().is_some_and(|x| x == EXT) {
            out.push(path);
        }
        if out.len() >= 50 {
            return;
        }
    }
}

/// Checks one bundle file.
fn examine(path: &Path, source: &'static str) -> Found {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut found = Found {
        path: path.display().to_string(),
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        source,
        bytes,
        version: None,
        target: None,
        valid: false,
        problem: None,
        newer: false,
    };
    match read_bundle(path) {
        Err(e) => found.problem = Some(e.to_string()),
        Ok(data) => match bundle::verify(&data) {
            Ok((h, _)) => {
                found.valid = true;
                found.newer = install::compare_versions(&h.version, super::system::VERSION)
                    == std::cmp::Ordering::Greater;
                found.version = Some(h.version);
                found.target = Some(h.target);
            }
            Err(e) => found.problem = Some(e.zh()),
        },
    }
    found
}

fn read_bundle(path: &Path) -> Result<Vec<u8>, AppError> {
    let len = std::fs::metadata(path)
        .map_err(|_| AppError::NotFound)?
        .len();
    if len > MAX_BUNDLE_BYTES {
        return Err(AppError::TooLarge);
    }
    std::fs::read(path).map_err(|e| AppError::conflict("unreadable", format!("读取失败：{e}")))
}

/// The bundle files on the configured mount paths and among the uploads.
fn bundle_paths(app: &App) -> Vec<(PathBuf, &'static str)> {
    let mut usb = Vec::new();
    for p in &app.settings().update_paths {
        walk(Path::new(p), SCAN_DEPTH, &mut usb);
    }
    let mut uploads = Vec::new();
    walk(&uploads_dir(&app.data_dir), 0, &mut uploads);
    usb.into_iter()
        .map(|p| (p, "usb"))
        .chain(uploads.into_iter().map(|p| (p, "upload")))
        .collect()
}

/// Every bundle on the configured mount paths and among the uploads, checked, newest
/// version first.
pub fn scan(app: &App, actor: &Actor) -> Result<Vec<Found>, AppError> {
    actor.require(Permission::SettingsManage)?;
    let mut out: Vec<Found> = bundle_paths(app)
        .iter()
        .map(|(p, source)| examine(p, source))
        .collect();
    out.sort_by(|a, b| {
        install::compare_versions(
            b.version.as_deref().unwrap_or(""),
            a.version.as_deref().unwrap_or(""),
        )
    });
    Ok(out)
}

/// Keeps an uploaded bundle in `DATA/updates` when it verifies; a bad one is refused and not
/// kept.
pub fn upload(app: &App, actor: &Actor, data: &[u8]) -> Result<Found, AppError> {
    actor.require(Permission::SettingsManage)?;
    let (h, _) = bundle::verify(data).map_err(InstallError::from)?;
    let dir = uploads_dir(&app.data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| AppError::Internal(e.to_string()))?;
    let safe: String = h
        .version
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || ".-+".contains(*c))
        .take(32)
        .collect();
    let path = dir.join(format!("hotline-{safe}-{}.{EXT}", h.target));
    let tmp = dir.join(".upload.tmp");
    std::fs::write(&tmp, data)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    super::audit::record(
        app,
        actor.event(
            "update.upload",
            None,
            format!("上传升级包 {} ({})", h.version, h.sha256),
        ),
    )?;
    Ok(examine(&path, "upload"))
}

/// What an install needs besides the bundle.
pub struct ApplyRequest<'a> {
    pub force: bool,
    pub reason: &'a str,
    /// Who asked: a user name, or `console`.
    pub actor: AuditEvent,
}

/// Verifies, backs up, checks and swaps in a bundle; the caller restarts the process.
pub fn apply_bundle(
    store: &Store,
    data: &Path,
    bundle_bytes: &[u8],
    req: ApplyRequest<'_>,
    now: Timestamp,
) -> Result<UpdateState, AppError> {
    let (header, binary) = bundle::verify(bundle_bytes).map_err(InstallError::from)?;
    install::check_version(&header, super::system::VERSION, req.force, req.reason)?;
    let exe = install::exe_path()
        .ok_or_else(|| AppError::conflict("update_failed", "无法确定本程序的安装位置"))?;
    // The pre-update backup, kept aside from the nightly rotation.
    let dir = pre_update_dir(data);
    let backup = dir.join(format!(
        "{}-to-{}.{}",
        super::backups::file_name(now).trim_end_matches(&format!(".{}", crate::store::backup::EXT)),
        header
            .version
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect::<String>(),
        crate::store::backup::EXT
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| InstallError::Backup(e.to_string()))
        .and_then(|_| {
            store
                .backup_to(&backup, now.secs())
                .map_err(|e| InstallError::Backup(e.to_string()))
        })?;
    prune(&dir);
    let result = install::install(&exe, binary, &header, data, &backup, req.force, now.secs());
    let (action, detail) = match &result {
        Ok(s) => (
            if req.force {
                "update.installed_forced"
            } else {
                "update.installed"
            },
            format!(
                "安装升级包 {} → {}（SHA-256 {}），升级前备份 {}{}",
                s.from_version,
                s.to_version,
                header.sha256,
                backup.display(),
                if req.force {
                    format!("；强制安装，原因：{}", req.reason.trim())
                } else {
                    String::new()
                }
            ),
        ),
        Err(e) => ("update.failed", format!("升级包 {}：{e}", header.version)),
    };
    store.write(|tx| {
        crate::store::audit::append(
            tx,
            now,
            AuditEvent {
                action: action.into(),
                detail,
                ..req.actor
            },
        )
    })?;
    Ok(result?)
}

/// Keeps the newest pre-update backups only.
fn prune(dir: &Path) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == crate::store::backup::EXT)
        })
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(KEEP_PRE_UPDATE);
    for f in files.into_iter().take(excess) {
        let _ = std::fs::remove_file(f);
    }
}

/// Installs a bundle chosen on the updates page (by its path from `scan`).
pub fn apply(
    app: &App,
    actor: &Actor,
    path: &str,
    force: bool,
    reason: &str,
) -> Result<UpdateState, AppError> {
    actor.require(Permission::SettingsManage)?;
    // Only a bundle the page lists may be installed: no arbitrary paths.
    let (found, _) = bundle_paths(app)
        .into_iter()
        .find(|(p, _)| p.as_os_str() == path)
        .ok_or(AppError::NotFound)?;
    let data = read_bundle(&found)?;
    apply_bundle(
        &app.store,
        &app.data_dir,
        &data,
        ApplyRequest {
            force,
            reason,
            actor: actor.event("update.install", None, String::new()),
        },
        app.now(),
    )
}

/// The last update's state, for the page.
pub fn state(app: &App) -> Option<UpdateState> {
    install::read_state(&app.data_dir)
}
