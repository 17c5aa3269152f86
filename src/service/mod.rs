//! Use cases: each takes the acting user first, checks permission, and changes the store in
//! one transaction together with its audit entry.

pub mod appeals;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod blacklist;
pub mod cti;
pub mod handover;
pub mod knowledge;
pub mod open311;
pub mod orders;
pub mod outbox;
pub mod password;
pub mod qa;
pub mod reports;
pub mod roster;
pub mod rules;
pub mod screening_settings;
pub mod settings;
pub mod setup;
pub mod suggest;
pub mod system;
pub mod throttle;
pub mod tokens;
pub mod units;
pub mod updates;
pub mod users;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::domain::audit::AuditEvent;
use crate::domain::role::{Permission, Role, allows};
use crate::domain::settings::Settings;
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::store::Store;

/// Everything the services share.
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub throttle: throttle::Throttle,
    /// Lookups by 查询码, per token or user (a code is short enough to guess at).
    pub lookups: throttle::Rate,
    /// Bounds concurrent argon2 computations (each takes ~19 MiB).
    pub hashing: tokio::sync::Semaphore,
    settings: RwLock<Settings>,
    pub data_dir: PathBuf,
    pub started_at: Timestamp,
    /// The full-text index, when the server runs (offline commands do without).
    pub search: std::sync::OnceLock<Arc<crate::search::SearchIndex>>,
    /// Asks `serve` to stop gracefully and start again (after an update is installed).
    pub restart: tokio::sync::Notify,
    /// Who-viewed records not yet written: reading an order never waits for a write; the
    /// background job writes these within moments (`orders::flush_views`).
    pub pending_views: std::sync::Mutex<Vec<(crate::domain::order::OrderId, Vec<u8>)>>,
    /// Held while queued who-viewed records are being written.
    pub views_flushing: std::sync::Mutex<()>,
    /// Held while a backup is written: one at a time (the nightly job and an admin's button
    /// would otherwise copy a big box twice at once).
    pub backup_running: std::sync::Mutex<()>,
    /// Wakes the outbox worker when a delivery is queued or retried.
    pub outbox_wake: tokio::sync::Notify,
    /// Screen-pops and other pushes to signed-in browsers (see `service::cti`).
    pub pushes: tokio::sync::broadcast::Sender<Push>,
    /// Set once the server is stopping: open event streams end.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Event streams open now (bounded).
    pub streams: std::sync::atomic::AtomicUsize,
    /// The call ringing at each seat now (its id and screen-pop), for a browser that
    /// (re)connects a moment late.
    pub ringing: std::sync::Mutex<std::collections::HashMap<u8, (String, Push)>>,
}

/// Something a signed-in user's browser is told at once.
#[derive(Clone, Debug)]
pub struct Push {
    /// The session (its key) whose browser is told.
    pub target: Vec<u8>,
    /// The SSE event name.
    pub event: &'static str,
    /// Its JSON data.
    pub data: String,
    pub at: Timestamp,
}

/// The signed-in user behind a request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit: Option<UnitId>,
    pub must_change_password: bool,
    /// SHA-256 of the session token.
    pub session_key: Vec<u8>,
    pub csrf_token: String,
    pub ip: Option<IpAddr>,
    /// Set for an integration token: the one channel it may register and read.
    pub channel: Option<crate::domain::order::Channel>,
}

impl Actor {
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if allows(self.role, permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// An audit event attributed to this actor.
    pub fn event(&self, action: &str, target: Option<String>, detail: String) -> AuditEvent {
        AuditEvent {
            actor_id: Some(self.id.0),
            actor: self.username.clone(),
            role: Some(self.role.code().to_string()),
            ip: self.ip.map(|i| i.to_string()),
            action: action.to_string(),
            target,
            detail,
        }
    }
}

/// Concurrent argon2 hashes allowed at once.
pub const HASHING_PERMITS: usize = 2;

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>, data_dir: PathBuf) -> Result<App, AppError> {
        let settings = store.read(|tx| crate::store::meta::get::<Settings>(tx, "settings"))?;
        let started_at = clock.now();
        Ok(App {
            store,
            clock,
            throttle: throttle::Throttle::default(),
            lookups: throttle::Rate::default(),
            hashing: tokio::sync::Semaphore::new(HASHING_PERMITS),
            backup_running: std::sync::Mutex::new(()),
            settings: RwLock::new(settings.unwrap_or_default()),
            data_dir,
            started_at,
            search: std::sync::OnceLock::new(),
            restart: tokio::sync::Notify::new(),
            pending_views: std::sync::Mutex::new(Vec::new()),
            views_flushing: std::sync::Mutex::new(()),
            outbox_wake: tokio::sync::Notify::new(),
            pushes: tokio::sync::broadcast::channel(64).0,
            stopping: tokio::sync::watch::channel(false).0,
            streams: std::sync::atomic::AtomicUsize::new(0),
            ringing: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn set_settings_cache(&self, s: Settings) {
        match self.settings.write() {
            Ok(mut g) => *g = s,
            Err(p) => *p.into_inner() = s,
        }
    }
}
