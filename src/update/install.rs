//! Installing a verified bundle, and the start-up guard that keeps the box running.
//!
//! `install`: the caller has verified the bundle and taken a pre-update backup. The new binary
//! is written beside the current one (`.NAME.staged`), started on a copy of the data from that
//! backup (`hotline selfcheck`: open the data, render the templates, serve `/healthz`) up to
//! twice, and only when it passes is the current binary kept as `NAME.previous` and the staged
//! one renamed over it (one atomic rename). The state file `DATA/update-state.json` then says
//! "pending".
//!
//! `on_start` / `failed_start` / `confirm`: every start of a pending binary counts as failed
//! until the running server answers its own `/healthz`; after two failed starts the previous
//! binary is renamed back into place (and the pre-update backup restored when the failed
//! binary had already migrated the schema), and the process restarts into it.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{BundleError, Header};

pub const STATE_FILE: &str = "update-state.json";
pub const PREVIOUS_SUFFIX: &str = ".previous";
/// Failed starts of a new binary after which the previous one is put back.
pub const MAX_FAILED_STARTS: u32 = 2;
/// How long one self-check of a staged binary may take.
const SELF_CHECK_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Swapped in; not yet seen serving.
    Pending,
    /// The new binary started and answered its own health check.
    Confirmed,
    /// The new binary failed twice; the previous one is back.
    RolledBack,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateState {
    pub phase: Phase,
    pub from_version: String,
    pub to_version: String,
    pub binary: PathBuf,
    pub previous: PathBuf,
    /// The pre-update backup.
    pub backup: Option<PathBuf>,
    pub failed_starts: u32,
    pub at_unix: i64,
    pub forced: bool,
    /// What happened at the last step (why it rolled back, which backup was restored).
    #[serde(default)]
    pub note: Option<String>,
    /// Whether the outcome (confirmed, rolled back) is in the audit log yet.
    #[serde(default)]
    pub audited: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{}", .0.zh())]
    Bundle(#[from] BundleError),
    #[error("升级包版本 {found} 不高于当前版本 {current}；确需降级或重装，请选择“强制”并写明原因")]
    NotNewer { found: String, current: String },
    #[error("强制安装须写明原因")]
    ForceWithoutReason,
    #[error("升级前备份失败，未作任何更改：{0}")]
    Backup(String),
    #[error("新版本在数据副本上自检两次均未通过，未作任何更改：{0}")]
    SelfCheck(String),
    #[error("安装失败，未作任何更改：{0}")]
    Io(String),
}

impl BundleError {
    /// The refusal in Chinese, for the admin page and the console.
    pub fn zh(&self) -> String {
        match self {
            BundleError::NotABundle => "这不是 hotline 升级包".into(),
            BundleError::Damaged(d) => format!("升级包已损坏（{d}）"),
            BundleError::Untrusted => "升级包不是由受信任的密钥签名的，已拒绝".into(),
            BundleError::BadSignature => "升级包签名不符（内容被改动过），已拒绝".into(),
            BundleError::BadHash => "升级包中的程序与其 SHA-256 不符（被改动过），已拒绝".into(),
            BundleError::WrongTarget { found, expected } => {
                format!("升级包适用于 {found}，本机是 {expected}，已拒绝")
            }
            BundleError::Io(e) => format!("读取升级包失败：{e}"),
        }
    }
}

static EXE: OnceLock<PathBuf> = OnceLock::new();

/// Remembers the path this process was started from. Call first thing in `main`: once the
/// file is swapped, `/proc/self/exe` names the deleted old inode.
pub fn remember_exe() {
    if let Ok(p) = std::env::current_exe() {
        let _ = EXE.set(p);
    }
}

/// The path of the installed binary (where an update goes).
pub fn exe_path() -> Option<PathBuf> {
    EXE.get().cloned().or_else(|| std::env::current_exe().ok())
}

/// Compares dotted versions numerically (`0.10.0` > `0.9.3`); a non-numeric part compares
/// as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| -> Vec<String> {
        s.trim()
            .trim_start_matches('v')
            .split(['.', '-', '+'])
            .map(str::to_string)
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).map(String::as_str).unwrap_or("0");
        let y = pb.get(i).map(String::as_str).unwrap_or("0");
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Only a newer version installs, unless forced with a reason.
pub fn check_version(
    header: &Header,
    current: &str,
    force: bool,
    reason: &str,
) -> Result<(), InstallError> {
    if compare_versions(&header.version, current) == Ordering::Greater {
        return Ok(());
    }
    if !force {
        return Err(InstallError::NotNewer {
            found: header.version.clone(),
            current: current.to_string(),
        });
    }
    if reason.trim().is_empty() {
        return Err(InstallError::ForceWithoutReason);
    }
    Ok(())
}

pub fn previous_path(exe: &Path) -> PathBuf {
    let mut s = exe.as_os_str().to_owned();
    s.push(PREVIOUS_SUFFIX);
    PathBuf::from(s)
}

fn staged_path(exe: &Path) -> PathBuf {
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "hotline".into());
    exe.with_file_name(format!(".{name}.staged"))
}

pub fn read_state(data: &Path) -> Option<UpdateState> {
    let bytes = std::fs::read(data.join(STATE_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write_state(data: &Path, state: &UpdateState) -> std::io::Result<()> {
    let tmp = data.join(format!("{STATE_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    write_synced(&tmp, &json, 0o600)?;
    std::fs::rename(&tmp, data.join(STATE_FILE))?;
    sync_dir(data);
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Runs `binary selfcheck --data DIR` and waits for it, up to the timeout.
fn run_self_check(binary: &Path, data: &Path) -> Result<(), String> {
    let mut child = std::process::Command::new(binary)
        .arg("selfcheck")
        .arg("--data")
        .arg(data)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("无法运行新程序：{e}"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read as _;
                    let _ = e.read_to_string(&mut err);
                }
                let last = err.lines().last().unwrap_or("").trim().to_string();
                return Err(format!("自检退出（{status}）{last}"));
            }
            Ok(None) if started.elapsed() > SELF_CHECK_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("自检超时".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Starts the staged binary on a copy of the data (from the pre-update backup), twice at
/// most; the copy is removed afterwards.
fn check_staged(staged: &Path, backup: &Path, data: &Path) -> Result<(), String> {
    let dir = data.join("update-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        let m = crate::store::backup::verify(backup).map_err(|e| e.to_string())?;
        crate::store::backup::extract_db(backup, m.bytes, &dir.join(crate::store::DB_FILE))
            .map_err(|e| e.to_string())?;
        let first = run_self_check(staged, &dir);
        match first {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "staged binary failed its first self-check; trying again");
                run_self_check(staged, &dir)
            }
        }
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Stages, checks and swaps in `binary` (already verified) as the new `exe`; records the
/// pending state. On any error nothing is changed.
pub fn install(
    exe: &Path,
    binary: &[u8],
    header: &Header,
    data: &Path,
    backup: &Path,
    forced: bool,
    now_unix: i64,
) -> Result<UpdateState, InstallError> {
    let io = |e: std::io::Error| InstallError::Io(e.to_string());
    let staged = staged_path(exe);
    write_synced(&staged, binary, 0o755).map_err(io)?;
    if let Err(e) = check_staged(&staged, backup, data) {
        let _ = std::fs::remove_file(&staged);
        return Err(InstallError::SelfCheck(e));
    }
    let previous = previous_path(exe);
    let state = UpdateState {
        phase: Phase::Pending,
        from_version: crate::service::system::VERSION.to_string(),
        to_version: header.version.clone(),
        binary: exe.to_path_buf(),
        previous: previous.clone(),
        backup: Some(backup.to_path_buf()),
        failed_starts: 0,
        at_unix: now_unix,
        forced,
        note: None,
        audited: false,
    };
    // The state goes first: a crash between it and the swap leaves a "pending" old binary,
    // which its next start simply confirms. A failed swap puts the earlier record back.
    let earlier = read_state(data);
    if let Err(e) = write_state(data, &state) {
        let _ = std::fs::remove_file(&staged);
        return Err(io(e));
    }
    let swap = || -> std::io::Result<()> {
        // Keep the running binary as NAME.previous (copied, then renamed into place), then
        // swap the new one in with one rename.
        let tmp = previous.with_extension("previous-tmp");
        let _ = std::fs::remove_file(&tmp);
        std::fs::copy(exe, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &previous)?;
        std::fs::rename(&staged, exe)?;
        if let Some(dir) = exe.parent() {
            sync_dir(dir);
        }
        Ok(())
    };
    if let Err(e) = swap() {
        let _ = std::fs::remove_file(&staged);
        match &earlier {
            Some(s) => {
                let _ = write_state(data, s);
            }
            None => {
                let _ = std::fs::remove_file(data.join(STATE_FILE));
            }
        }
        return Err(io(e));
    }
    Ok(state)
}

/// What a start should do, decided before anything else is opened.
#[derive(Debug, PartialEq, Eq)]
pub enum StartGuard {
    /// No update pending: start as usual.
    Normal,
    /// A new binary's trial start: confirm it once it serves.
    Trial,
    /// The new binary had failed twice; the previous one is back. Restart into it.
    RolledBack(UpdateState),
}

/// Called first in `serve`: counts this start against a pending update, or rolls back when
/// the earlier starts all failed.
pub fn on_start(data: &Path) -> StartGuard {
    let Some(mut state) = read_state(data) else {
        return StartGuard::Normal;
    };
    if state.phase != Phase::Pending {
        return StartGuard::Normal;
    }
    if state.failed_starts >= MAX_FAILED_STARTS {
        return match rollback(data, state) {
            Some(s) => StartGuard::RolledBack(s),
            None => StartGuard::Normal,
        };
    }
    // Counted as failed until `confirm`: a crash before then is a failed start too.
    state.failed_starts += 1;
    if let Err(e) = write_state(data, &state) {
        tracing::error!(error = %e, "cannot record the update trial start");
    }
    StartGuard::Trial
}

/// The running new binary answered its own health check.
pub fn confirm(data: &Path) -> Option<UpdateState> {
    let mut state = read_state(data)?;
    if state.phase != Phase::Pending {
        return None;
    }
    state.phase = Phase::Confirmed;
    state.note = Some(format!("第 {} 次启动自检通过", state.failed_starts));
    write_state(data, &state).ok()?;
    Some(state)
}

/// A finished update whose outcome is not audited yet; marks it audited.
pub fn take_unaudited(data: &Path) -> Option<UpdateState> {
    let mut state = read_state(data)?;
    if state.phase == Phase::Pending || state.audited {
        return None;
    }
    state.audited = true;
    write_state(data, &state).ok()?;
    Some(state)
}

/// A trial start failed: rolls back when that was the last allowed one.
pub fn failed_start(data: &Path, why: &str) -> Option<UpdateState> {
    let mut state = read_state(data)?;
    if state.phase != Phase::Pending {
        return None;
    }
    state.note = Some(why.chars().take(300).collect());
    if state.failed_starts < MAX_FAILED_STARTS {
        let _ = write_state(data, &state);
        return None;
    }
    rollback(data, state)
}

/// Puts the previous binary back; restores the pre-update backup when the failed binary
/// left the database at a schema the previous one cannot open.
fn rollback(data: &Path, mut state: UpdateState) -> Option<UpdateState> {
    let put_back = || -> std::io::Result<()> {
        let tmp = state.binary.with_extension("rollback-tmp");
        let _ = std::fs::remove_file(&tmp);
        std::fs::copy(&state.previous, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &state.binary)?;
        if let Some(dir) = state.binary.parent() {
            sync_dir(dir);
        }
        Ok(())
    };
    if let Err(e) = put_back() {
        tracing::error!(error = %e, "rollback to the previous binary failed");
        return None;
    }
    let mut note = format!(
        "新版本 {} 连续 {} 次启动失败，已自动退回 {}",
        state.to_version, state.failed_starts, state.from_version
    );
    if let Some(reason) = &state.note {
        note.push_str(&format!("（最后一次：{reason}）"));
    }
    if let Some(backup) = state.backup.clone()
        && let Ok(m) = crate::store::backup::verify(&backup)
        && crate::store::peek_schema_version(data).is_ok_and(|v| v > m.schema_version)
    {
        match restore_db(&backup, m.bytes, data) {
            Ok(()) => note.push_str(&format!("；数据库已恢复为升级前备份 {}", backup.display())),
            Err(e) => note.push_str(&format!("；恢复升级前备份失败：{e}")),
        }
    }
    state.phase = Phase::RolledBack;
    state.note = Some(note);
    if let Err(e) = write_state(data, &state) {
        tracing::error!(error = %e, "cannot record the rollback");
    }
    tracing::error!(
        note = state.note.as_deref().unwrap_or(""),
        "update rolled back"
    );
    Some(state)
}

fn restore_db(backup: &Path, bytes: u64, data: &Path) -> Result<(), String> {
    let live = data.join(crate::store::DB_FILE);
    let staging = data.join("hotline.redb.rollback");
    crate::store::backup::extract_db(backup, bytes, &staging).map_err(|e| e.to_string())?;
    let keep = data.join("backups").join(format!(
        "failed-update-{}.redb",
        time::OffsetDateTime::now_utc().unix_timestamp()
    ));
    if let Some(dir) = keep.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::rename(&live, &keep).map_err(|e| e.to_string())?;
    std::fs::rename(&staging, &live).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(data.join("index"));
    Ok(())
}

/// Whether systemd runs this process (it restarts it; no re-exec needed).
pub fn under_systemd() -> bool {
    // The unit is Type=notify: systemd hands it a notify socket.
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

/// Restarts into whatever binary is installed now: under systemd by exiting (the unit's
/// `Restart=always` starts it again), otherwise by exec'ing it with the same arguments.
pub fn restart(code: i32) -> ! {
    if !under_systemd()
        && let Some(exe) = exe_path()
    {
        use std::os::unix::process::CommandExt as _;
        let err = std::process::Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .exec();
        eprintln!("error: cannot restart {}: {err}", exe.display());
    }
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("0.10.0", "0.9.3"), Ordering::Greater);
        assert_eq!(compare_versions("1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(compare_versions("v1.2.1", "1.2.0"), Ordering::Greater);
        assert_eq!(compare_versions("0.1.0", "0.2.0"), Ordering::Less);
    }

    #[test]
    fn only_newer_installs_unless_forced_with_a_reason() {
        let h = |v: &str| Header {
            version: v.into(),
            target: "t".into(),
            sha256: String::new(),
            size: 0,
            key: String::new(),
        };
        assert!(check_version(&h("0.2.0"), "0.1.0", false, "").is_ok());
        assert!(matches!(
            check_version(&h("0.1.0"), "0.1.0", false, ""),
            Err(InstallError::NotNewer { .. })
        ));
        assert!(matches!(
            check_version(&h("0.0.9"), "0.1.0", true, " "),
            Err(InstallError::ForceWithoutReason)
        ));
        assert!(check_version(&h("0.0.9"), "0.1.0", true, "回退到已知可用版本").is_ok());
    }
}
