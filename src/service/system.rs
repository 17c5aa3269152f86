//! What the admin's overview shows about the box itself.

use serde::Serialize;

use super::{Actor, App};
use crate::domain::role::Permission;
use crate::error::AppError;
pub use crate::store::CommitStats;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("HOTLINE_GIT_COMMIT");

#[derive(Serialize)]
pub struct SystemInfo {
    pub version: &'static str,
    pub commit: &'static str,
    pub started_at: String,
    pub uptime: String,
    pub schema_version: u64,
    pub users: u64,
    pub units: u64,
    pub audit_entries: u64,
    /// Live sessions, and the distinct people they belong to.
    pub sessions: u64,
    pub people_signed_in: u64,
    pub disk_free_mb: Option<u64>,
    /// Whether the store writes (a full disk stops writes until space is back).
    pub store: crate::store::Health,
    /// Since when the store cannot write, in Beijing time.
    pub store_since: Option<String>,
    /// Accounts guessed at from many addresses in the last hour.
    pub guess_alerts: Vec<super::throttle::GuessAlert>,
}

fn human_duration(secs: i64) -> String {
    let (d, h, m) = (secs / 86400, (secs % 86400) / 3600, (secs % 3600) / 60);
    if d > 0 {
        format!("{d} 天 {h} 小时")
    } else if h > 0 {
        format!("{h} 小时 {m} 分")
    } else {
        format!("{m} 分")
    }
}

pub fn disk_free_mb(path: &std::path::Path) -> Option<u64> {
    crate::store::free_bytes(path).map(|b| b / 1024 / 1024)
}

/// What `/healthz` and the watchdog say: the store answers a read, and whether it writes.
pub fn health(app: &App) -> Result<crate::store::Health, AppError> {
    app.store.read(crate::store::meta::schema_version)?;
    Ok(app.store.health())
}

pub fn info(app: &App, actor: &Actor) -> Result<SystemInfo, AppError> {
    actor.require(Permission::SettingsManage)?;
    let (counts, _) = app.store.table_counts()?;
    let count = |name: &str| {
        counts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| *c)
            .unwrap_or(0)
    };
    let now = app.now();
    let idle = app.settings().idle_secs();
    let (people, live_sessions) = app
        .store
        .read(|tx| crate::store::sessions::signed_in(tx, now, idle))?;
    Ok(SystemInfo {
        version: VERSION,
        commit: COMMIT,
        started_at: app.started_at.display_cst(),
        uptime: human_duration(now.secs() - app.started_at.secs()),
        schema_version: app.store.read(crate::store::meta::schema_version)?,
        users: count("users-v1"),
        units: count("units-v1"),
        audit_entries: count("audit-v1"),
        sessions: live_sessions,
        people_signed_in: people,
        disk_free_mb: disk_free_mb(&app.data_dir),
        store: app.store.health(),
        store_since: match app.store.health() {
            crate::store::Health::Ok => None,
            crate::store::Health::DiskFull { since }
            | crate::store::Health::Failed { since, .. } => {
                Some(crate::domain::time::Timestamp::from_secs(since).display_cst())
            }
        },
        guess_alerts: app.throttle.alerts(now),
    })
}

/// Orders in each state, for `/metrics` (from the counters).
pub fn order_counts(app: &App) -> Result<Vec<(&'static str, u64)>, AppError> {
    use crate::domain::order_index::{Key, Kind};
    app.store.read(|tx| -> Result<_, AppError> {
        let mut out = Vec::new();
        for st in crate::domain::order_state::State::ALL {
            let key = Key::new(Kind::ByState).str(st.code());
            out.push((st.code(), crate::store::orders::count(tx, key.as_slice())?));
        }
        Ok(out)
    })
}

/// Whole orders and list rows read from the store since start (`/metrics`; the scale tests
/// prove a list reads one page).
pub fn decodes() -> (u64, u64) {
    crate::store::orders::decodes()
}

/// Durable commits since start, the changes they carried (group commit at work), and where
/// the time went.
pub fn commits(app: &App) -> CommitStats {
    app.store.commit_stats()
}

/// Order changes the full-text index has yet to take in (`None` without an index).
pub fn search_lag(app: &App) -> Option<u64> {
    app.search.get().and_then(|ix| ix.lag(&app.store).ok())
}
