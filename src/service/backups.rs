//! Backups of the box: online (from a read snapshot while serving), nightly with catch-up,
//! rotated 7 daily / 4 weekly / 12 monthly; pre-update and pre-migration copies are kept aside.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Actor, App};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::store::backup::{EXT, Manifest};

pub fn dir(app: &App) -> PathBuf {
    app.data_dir.join("backups")
}

/// `hotline-YYYYMMDD-HHMMSS.hlbak`, in Beijing time.
pub fn file_name(at: Timestamp) -> String {
    let d = at.cst_digits();
    format!("hotline-{}-{}.{EXT}", &d[..8], &d[8..])
}

#[derive(Clone, Debug, Serialize)]
pub struct BackupInfo {
    pub name: String,
    pub bytes: u64,
    pub created_at: String,
    /// Unix seconds, from the file name.
    pub at: i64,
}

/// Parses `hotline-YYYYMMDD-HHMMSS.hlbak` + `suffix` (`.age` for encrypted copies) back into
/// an instant.
fn parse_name_with(name: &str, suffix: &str) -> Option<Timestamp> {
    let core = name
        .strip_prefix("hotline-")?
        .strip_suffix(suffix)?
        .strip_suffix(&format!(".{EXT}"))?;
    let (d, t) = core.split_once('-')?;
    // Any file may lie in the folder: only ASCII digits are sliced by position.
    if d.len() != 8 || t.len() != 6 || !(d.bytes().chain(t.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = Timestamp::parse_cst_date(&format!("{}-{}-{}", &d[0..4], &d[4..6], &d[6..8]))?;
    let h: i64 = t[0..2].parse().ok()?;
    let m: i64 = t[2..4].parse().ok()?;
    let s: i64 = t[4..6].parse().ok()?;
    Some(day.plus_secs(h * 3600 + m * 60 + s))
}

pub fn list_files(dir: &Path) -> Vec<BackupInfo> {
    list_files_with(dir, "")
}

fn list_files_with(dir: &Path, suffix: &str) -> Vec<BackupInfo> {
    let mut out: Vec<BackupInfo> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let at = parse_name_with(&name, suffix)?;
            let bytes = e.metadata().ok()?.len();
            Some(BackupInfo {
                name,
                bytes,
                created_at: at.display_cst(),
                at: at.secs(),
            })
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.at));
    out
}

/// Which backups rotation keeps: everything of the last 24 hours, then the newest of each of
/// 7 days, 4 weeks and 12 months.
pub fn to_keep(files: &[BackupInfo]) -> Vec<String> {
    let mut keep = Vec::new();
    // Every copy of the last 24 hours stays: a backup taken by hand before a risky change
    // must not be deleted by the next one the same day.
    if let Some(newest) = files.iter().map(|f| f.at).max() {
        keep.extend(
            files
                .iter()
                .filter(|f| f.at >= newest - 86_400)
                .map(|f| f.name.clone()),
        );
    }
    let mut take = |key: &dyn Fn(&BackupInfo) -> String, n: usize| {
        let mut seen: Vec<String> = Vec::new();
        for f in files {
            let k = key(f);
            if !seen.contains(&k) {
                seen.push(k);
                if seen.len() > n {
                    break;
                }
                if !keep.contains(&f.name) {
                    keep.push(f.name.clone());
                }
            }
        }
    };
    take(&|f| f.created_at[..10].to_string(), 7);
    take(
        &|f| ((f.at + 8 * 3600 + 3 * 86400) / (7 * 86400)).to_string(),
        4,
    );
    take(&|f| f.created_at[..7].to_string(), 12);
    keep
}

/// Deletes what an interrupted backup left (`*.tmp`); called only while no backup runs.
fn remove_unfinished(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().ends_with(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn rotate(dir: &Path) -> usize {
    rotate_with(dir, "")
}

fn rotate_with(dir: &Path, suffix: &str) -> usize {
    let files = list_files_with(dir, suffix);
    let keep = to_keep(&files);
    let mut removed = 0;
    for f in files.iter().filter(|f| !keep.contains(&f.name)) {
        if std::fs::remove_file(dir.join(&f.name)).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, Default)]
#[serde(default)]
pub struct LastRun {
    pub at: Option<Timestamp>,
    pub ok: bool,
    pub name: Option<String>,
    pub error: Option<String>,
    /// The encrypted copy's path, when one was written.
    pub copy: Option<String>,
    /// Why no copy was written although one is configured (stick absent, write failed).
    pub copy_error: Option<String>,
}

/// Folder on the copy target (the USB stick) that holds the encrypted copies.
pub const COPY_FOLDER: &str = "hotline-backups";

/// Encrypts a backup with age to `recipient` into `copy_dir/hotline-backups/NAME.age`
/// (through a temp file and a rename) and rotates the copies there like the originals.
pub fn copy_encrypted(backup: &Path, copy_dir: &Path, recipient: &str) -> Result<PathBuf, String> {
    use std::io::Write as _;
    let recipient: age::x25519::Recipient =
        recipient.parse().map_err(|_| "age 公钥无效".to_string())?;
    if !copy_dir.is_dir() {
        return Err(format!(
            "未找到备份副本目录 {}（U 盘未插入？）",
            copy_dir.display()
        ));
    }
    let folder = copy_dir.join(COPY_FOLDER);
    std::fs::create_dir_all(&folder).map_err(|e| format!("无法写入 {}：{e}", folder.display()))?;
    let name = backup
        .file_name()
        .map(|n| format!("{}.age", n.to_string_lossy()))
        .ok_or("备份文件名无效")?;
    let target = folder.join(&name);
    let tmp = folder.join(format!(".{name}.tmp"));
    let write = || -> Result<(), Box<dyn std::error::Error>> {
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))?;
        let out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        let mut w = encryptor.wrap_output(out)?;
        std::io::copy(&mut std::fs::File::open(backup)?, &mut w)?;
        let mut out = w.finish()?;
        out.flush()?;
        out.get_ref().sync_all()?;
        std::fs::rename(&tmp, &target)?;
        Ok(())
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("写入备份副本失败：{e}"));
    }
    rotate_with(&folder, ".age");
    Ok(target)
}

impl crate::store::codec::Record for LastRun {
    const KIND: &'static str = "backup_last_run";
    const VERSION: u8 = 1;
}

pub fn last_run(app: &App) -> Result<LastRun, AppError> {
    Ok(app
        .store
        .read(|tx| crate::store::meta::get::<LastRun>(tx, "backup_last_run"))?
        .unwrap_or_default())
}

/// Takes a backup now (online), rotates, records the outcome. Blocking; waits for a backup
/// being written to end first.
pub fn run(app: &App) -> Result<(BackupInfo, Manifest), AppError> {
    let running = app.backup_running.lock().unwrap_or_else(|p| p.into_inner());
    run_holding(app, running)
}

/// `run`, unless a backup is being written right now (then `None`: that one counts).
fn run_unless_running(app: &App) -> Option<Result<(BackupInfo, Manifest), AppError>> {
    match app.backup_running.try_lock() {
        Ok(g) => Some(run_holding(app, g)),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(run_holding(app, p.into_inner())),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

fn run_holding(
    app: &App,
    _running: std::sync::MutexGuard<'_, ()>,
) -> Result<(BackupInfo, Manifest), AppError> {
    let now = app.now();
    let dir = dir(app);
    remove_unfinished(&dir);
    let mut copy: Option<Result<PathBuf, String>> = None;
    let result = (|| -> Result<(BackupInfo, Manifest), AppError> {
        std::fs::create_dir_all(&dir).map_err(|e| AppError::Internal(e.to_string()))?;
        let name = file_name(now);
        let path = dir.join(&name);
        // A backup of this very second exists (the button pressed twice at once, the
        // second waited for the first): that one is the answer.
        let manifest = match path.exists() {
            true => crate::store::backup::verify(&path)?,
            false => app.store.backup_to(&path, now.secs())?,
        };
        rotate(&dir);
        let settings = app.settings();
        if !settings.backup_copy_dir.is_empty() {
            copy = Some(copy_encrypted(
                &path,
                Path::new(&settings.backup_copy_dir),
                &settings.backup_age_recipient,
            ));
        }
        Ok((
            BackupInfo {
                name,
                bytes: manifest.bytes,
                created_at: now.display_cst(),
                at: now.secs(),
            },
            manifest,
        ))
    })();
    let last = match &result {
        Ok((info, _)) => LastRun {
            at: Some(now),
            ok: true,
            name: Some(info.name.clone()),
            error: None,
            copy: copy
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .map(|p| p.display().to_string()),
            copy_error: copy.as_ref().and_then(|c| c.as_ref().err()).cloned(),
        },
        Err(e) => LastRun {
            at: Some(now),
            ok: false,
            name: None,
            error: Some(e.to_string()),
            ..Default::default()
        },
    };
    app.store.write(|tx| -> Result<(), AppError> {
        crate::store::meta::put(tx, "backup_last_run", &last)?;
        crate::store::audit::append(
            tx,
            now,
            crate::domain::audit::AuditEvent {
                actor: "system".into(),
                action: if last.ok {
                    "backup.ok".into()
                } else {
                    "backup.failed".into()
                },
                detail: match (&last.name, &last.error, &last.copy, &last.copy_error) {
                    (Some(n), _, Some(c), _) => format!("{n}；加密副本 {c}"),
                    (Some(n), _, None, Some(ce)) => format!("{n}；{ce}"),
                    (Some(n), ..) => n.clone(),
                    (None, e, ..) => e.clone().unwrap_or_default(),
                },
                ..Default::default()
            },
        )?;
        Ok(())
    })?;
    result
}

pub fn run_as(app: &App, actor: &Actor) -> Result<(BackupInfo, Manifest), AppError> {
    actor.require(Permission::SettingsManage)?;
    run(app)
}

pub fn list(app: &App, actor: &Actor) -> Result<Vec<BackupInfo>, AppError> {
    actor.require(Permission::SettingsManage)?;
    Ok(list_files(&dir(app)))
}

/// The nightly job's step (run every minute): takes a backup when one is due at the
/// configured time or for catch-up.
pub fn nightly(app: &App) -> Option<Result<BackupInfo, AppError>> {
    let (hour, minute) = app.settings().backup_hm();
    if !due(app, hour, minute) {
        return None;
    }
    run_unless_running(app).map(|r| r.map(|(info, _)| info))
}

/// Whether the nightly job should run now: past the configured local time today without a
/// backup since, or the newest one is older than 26 hours (catch-up).
pub fn due(app: &App, hour: u32, minute: u32) -> bool {
    let newest = list_files(&dir(app)).first().map(|f| f.at);
    due_at(app.now(), newest, hour, minute)
}

/// `due` for a given time and newest backup (seconds).
pub fn due_at(now: Timestamp, newest: Option<i64>, hour: u32, minute: u32) -> bool {
    let Some(newest) = newest else { return true };
    if now.secs() - newest > 26 * 3600 {
        return true;
    }
    let today = Timestamp::parse_cst_date(&now.cst_day())
        .map(|t| t.secs())
        .unwrap_or(0);
    let slot = today + i64::from(hour) * 3600 + i64::from(minute) * 60;
    now.secs() >= slot && newest < slot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(day: i64, hour: i64) -> BackupInfo {
        // Days after Monday 2026-01-05 00:00 Beijing.
        let at = Timestamp::from_secs(1_767_542_400 + day * 86400 + hour * 3600);
        BackupInfo {
            name: file_name(at),
            bytes: 1,
            created_at: at.display_cst(),
            at: at.secs(),
        }
    }

    #[test]
    fn nightly_is_due_after_its_slot_or_after_26_hours() {
        // Monday 2026-01-05 00:00 Beijing, plus hours.
        let at = |h: i64| Timestamp::from_secs(1_767_542_400 + h * 3600);
        // No backup yet: due at once.
        assert!(due_at(at(1), None, 2, 30));
        // Before today's 02:30 with yesterday's copy: not due; after it: due.
        assert!(!due_at(at(2), Some(at(-21).secs()), 2, 30));
        assert!(due_at(at(3), Some(at(-21).secs()), 2, 30));
        // Today's copy taken after the slot: not due again today.
        assert!(!due_at(at(20), Some(at(3).secs()), 2, 30));
        // Older than 26 hours: catch up whatever the slot.
        assert!(due_at(at(1), Some(at(-26).secs() - 1), 2, 30));
    }

    #[test]
    fn rotation_keeps_7_daily_4_weekly_12_monthly() {
        // Two backups a day for 400 days, newest first.
        let mut files: Vec<BackupInfo> = (0..400).flat_map(|d| [file(d, 2), file(d, 14)]).collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.at));
        let keep = to_keep(&files);
        // The newest of each of the last 7 days…
        for d in 393..400 {
            assert!(keep.contains(&file(d, 14).name), "day {d}");
        }
        // …every copy of the last 24 hours (the morning's too)…
        assert!(
            keep.contains(&file(399, 2).name),
            "the day's earlier copy stays"
        );
        assert!(
            !keep.contains(&file(397, 2).name),
            "older days keep only their newest"
        );
        // …and no more than 7 + 4 + 12 files beyond the last day's.
        assert!(keep.len() <= 23 + 3, "{}", keep.len());
        assert!(keep.len() >= 12);
        assert_eq!(
            parse_name_with(&file(3, 2).name, "").map(|t| t.secs()),
            Some(file(3, 2).at)
        );
    }
}
