//! The one store: a redb file in the data directory. The only module that names redb.

pub mod appeals;
pub mod audit;
pub mod backup;
pub mod blacklist;
pub mod blobs;
pub mod calls;
pub mod cases;
pub mod codec;
pub mod facts;
pub mod gists;
mod group;
pub use group::CommitStats;
pub use migrations::SCHEMA_VERSION;
pub mod handover;
mod index;
pub mod inspections;
pub mod kb;
pub mod meta;
mod migrations;
pub mod orders;
pub mod outbox;
pub mod pending;
pub mod sessions;
mod sums;
pub mod tables;
pub mod units;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use redb::{
    Database, Durability, Key, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, Value,
};

pub use redb::{ReadTransaction as ReadTx, WriteTransaction as WriteTx};

/// redb's page cache is capped for a small box (24 MiB: at 32 the benchmark's peak under
/// load, intake then every page at 1,000,000 orders, reached 128.7 MiB).
pub const CACHE_BYTES: usize = 24 * 1024 * 1024;
pub const DB_FILE: &str = "hotline.redb";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is in use by another process (is `hotline serve` running?)")]
    Locked,
    #[error(
        "the database has schema version {found}, newer than this program supports ({supported}); use a newer hotline"
    )]
    TooNew { found: u64, supported: u64 },
    #[error("storage error: {0}")]
    Db(#[from] redb::Error),
    #[error("record {kind}: {detail}")]
    Codec { kind: &'static str, detail: String },
    #[error("record {kind} has unknown version {found}")]
    RecordVersion { kind: &'static str, found: u8 },
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The disk is full: nothing is written until space is back (reads go on).
    #[error("the disk is full")]
    DiskFull,
    /// The database is being reopened after an I/O failure.
    #[error("the database is reopening after an i/o failure")]
    Unavailable,
}

impl StoreError {
    /// Whether the error says the storage itself failed (not a missing key or a bad record),
    /// and whether that was a full disk.
    fn fault(&self) -> Option<Fault> {
        let io = |e: &std::io::Error| {
            // ENOSPC and EDQUOT.
            if matches!(e.raw_os_error(), Some(28 | 122))
                || e.kind() == std::io::ErrorKind::StorageFull
            {
                Fault::DiskFull
            } else {
                Fault::Io
            }
        };
        match self {
            StoreError::DiskFull => Some(Fault::DiskFull),
            StoreError::Io(e) => Some(io(e)),
            StoreError::Db(redb::Error::Io(e)) => Some(io(e)),
            StoreError::Db(redb::Error::PreviousIo | redb::Error::DatabaseClosed) => {
                Some(Fault::Io)
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    DiskFull,
    Io,
}

/// Whether the store can write, as `/healthz`, the watchdog and the admin's home report it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    #[default]
    Ok,
    /// The disk filled up: writes are refused until space is back, then resume by themselves.
    DiskFull { since: i64 },
    /// Another storage failure; the store is reopened until it works again.
    Failed { since: i64, detail: String },
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Free bytes on the file system holding `dir` (for the unprivileged user).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Space that must be free before writes are tried again after the disk filled up.
pub const RESUME_FREE_BYTES: u64 = 16 * 1024 * 1024;

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(redb::Error::from(e))
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl From<redb::DatabaseError> for StoreError {
    fn from(e: redb::DatabaseError) -> Self {
        match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked,
            other => StoreError::Db(redb::Error::from(other)),
        }
    }
}

/// Read access common to read and write transactions, so lookups are written once.
pub trait Tx {
    type Table<'t, K: Key + 'static, V: Value + 'static>: ReadableTable<K, V>
    where
        Self: 't;
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'_, K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError>;
}

impl Tx for ReadTx {
    type Table<'t, K: Key + 'static, V: Value + 'static> = redb::ReadOnlyTable<K, V>;
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'_, K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

impl Tx for WriteTx {
    type Table<'t, K: Key + 'static, V: Value + 'static> = redb::Table<'t, K, V>;
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'_, K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

/// Rows per catalogued table, and names of tables the catalogue does not know.
pub type TableCounts = (Vec<(&'static str, u64)>, Vec<String>);

/// The store: its core, shared with the writer thread that runs batched changes.
pub struct Store {
    core: Arc<StoreCore>,
    /// Dropping it lets the writer thread finish what was sent and waits for it; the thread
    /// holds the last handle to `core`, so the database closes when the store is dropped.
    writer: group::Writer,
}

impl std::ops::Deref for Store {
    type Target = StoreCore;
    fn deref(&self) -> &StoreCore {
        &self.core
    }
}

/// The open database and its health; everything but the writer thread.
pub struct StoreCore {
    /// The open database; `None` while it is reopened after an I/O failure.
    slot: RwLock<Option<Arc<Database>>>,
    dir: PathBuf,
    health: Mutex<Health>,
    /// Set by a storage failure: redb refuses every later operation until reopened.
    latched: AtomicBool,
    /// Wakes the recovery task (see `server`).
    pub wake: tokio::sync::Notify,
    /// The group commit's counters (see `group`).
    group: group::Group,
}

fn open_db(dir: &Path) -> Result<Database, StoreError> {
    Ok(Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create(dir.join(DB_FILE))?)
}

impl Store {
    /// Opens (or creates) the database in `dir` and brings its schema up to date, copying
    /// the file aside into `dir/backups` before any migration of existing data; then starts
    /// the writer thread.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let db = open_db(dir)?;
        let core = StoreCore {
            slot: RwLock::new(Some(Arc::new(db))),
            dir: dir.to_path_buf(),
            health: Mutex::new(Health::Ok),
            latched: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            group: group::Group::default(),
        };
        core.migrate()?;
        core.rebuild_derived_if_missing()?;
        let core = Arc::new(core);
        let writer = group::Writer::start(core.clone())?;
        Ok(Store { core, writer })
    }
}

impl StoreCore {
    /// Backups leave out what is derived from the orders (index keys, counters, list rows,
    /// facts): a database restored from one gets them back here, made from the orders, before
    /// anything reads them.
    fn rebuild_derived_if_missing(&self) -> Result<(), StoreError> {
        use redb::ReadableTableMetadata;
        let missing = self.read(|tx| -> Result<bool, StoreError> {
            Ok(tx.open(tables::ORDERS)?.len()? > 0 && tx.open(tables::ORDER_ROWS)?.len()? == 0)
        })?;
        if !missing {
            return Ok(());
        }
        let started = std::time::Instant::now();
        tracing::info!("rebuilding index keys, counters, list rows and facts from the orders");
        self.write(|tx| {
            orders::rebuild_derived(tx)?;
            facts::rebuild(tx)?;
            gists::rebuild(tx)
        })?;
        tracing::info!(
            secs = started.elapsed().as_secs_f64(),
            "derived order data rebuilt"
        );
        Ok(())
    }

    fn db(&self) -> Result<Arc<Database>, StoreError> {
        self.slot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(StoreError::Unavailable)
    }

    pub fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_health(&self, h: Health) {
        *self.health.lock().unwrap_or_else(|p| p.into_inner()) = h;
    }

    /// Whether redb failed and must be reopened before it works again.
    pub fn needs_reopen(&self) -> bool {
        self.latched.load(Ordering::Acquire)
            || self.slot.read().map(|s| s.is_none()).unwrap_or(true)
    }

    /// Records a storage failure and wakes the recovery task. A failed write on a nearly
    /// full disk counts as a full disk whatever errno redb passed on.
    fn fault(&self, e: &StoreError) -> Option<Fault> {
        let fault = e.fault()?;
        let fault = match fault {
            Fault::Io if free_bytes(&self.dir).is_some_and(|b| b < RESUME_FREE_BYTES) => {
                Fault::DiskFull
            }
            f => f,
        };
        if !matches!(e, StoreError::DiskFull) {
            self.latched.store(true, Ordering::Release);
        }
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        match (fault, &*h) {
            (Fault::DiskFull, Health::DiskFull { .. }) => {}
            (Fault::DiskFull, _) => {
                tracing::error!("the disk is full: writes stop until space is freed");
                *h = Health::DiskFull { since: unix_now() };
            }
            (Fault::Io, Health::Ok) => {
                tracing::error!(error = %e, "storage failure: the database will be reopened");
                *h = Health::Failed {
                    since: unix_now(),
                    detail: e.to_string(),
                };
            }
            (Fault::Io, _) => {}
        }
        drop(h);
        self.wake.notify_one();
        Some(fault)
    }

    /// Closes the failed database and opens it again (redb repairs it to the last durable
    /// commit, reading the whole file once). Waits for transactions in flight to end.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let old = self.slot.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut db) = old {
            let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
            // Every transaction holds a clone of the handle; the file closes with the last one.
            loop {
                match Arc::try_unwrap(db) {
                    Ok(inner) => {
                        drop(inner);
                        break;
                    }
                    Err(shared) if std::time::Instant::now() < give_up => {
                        db = shared;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(shared) => {
                        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(shared);
                        return Err(StoreError::Unavailable);
                    }
                }
            }
        }
        let db = open_db(&self.dir)?;
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(db));
        self.latched.store(false, Ordering::Release);
        tracing::info!("database reopened");
        Ok(())
    }

    /// One small durable write, bypassing the full-disk refusal: whether writes work again.
    /// On success the store is healthy again.
    pub fn probe_write(&self) -> Result<(), StoreError> {
        let result = self.write_inner(|tx| {
            tx.open_table(tables::META)?
                .insert("store-probe", unix_now().to_le_bytes().as_slice())?;
            Ok::<(), StoreError>(())
        });
        match result {
            Ok(()) => {
                if self.health() != Health::Ok {
                    tracing::info!("the database writes again");
                }
                self.set_health(Health::Ok);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// The schema version of the database in `dir`, read without migrating it (for deciding
/// whether a rolled-back binary can still open it).
pub fn peek_schema_version(dir: &Path) -> Result<u64, StoreError> {
    let db = Database::open(dir.join(DB_FILE))?;
    let tx = db.begin_read()?;
    meta::schema_version(&tx)
}

impl StoreCore {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` in one durable write transaction: all of it commits, or none of it. While
    /// the disk is full nothing is tried: the caller hears `DiskFull` at once.
    pub fn write<T, E>(&self, f: impl FnOnce(&WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        if matches!(self.health(), Health::DiskFull { .. }) {
            return Err(StoreError::DiskFull.into());
        }
        self.write_inner(f)
    }

    fn write_inner<T, E>(&self, f: impl FnOnce(&WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.exclusive(f)
    }

    /// A durable write transaction. Without redb's quick repair: that writes the allocator
    /// state of the whole file with every commit, a cost that grows with the county's history
    /// (it was half of an order's commit at 1,000,000 orders). After a crash or power cut the
    /// next open repairs the file instead, walking its trees once (9 s at 1,000,000 orders).
    fn begin(&self) -> Result<WriteTx, StoreError> {
        let db = self.db()?;
        let mut tx = db
            .begin_write()
            .map_err(|e| self.checked(StoreError::from(e)))?;
        tx.set_durability(Durability::Immediate)?;
        Ok(tx)
    }

    fn commit(&self, tx: WriteTx) -> Result<(), StoreError> {
        tx.commit().map_err(|e| self.checked(StoreError::from(e)))
    }

    /// A storage failure reported and turned into what callers should hear.
    fn checked(&self, e: StoreError) -> StoreError {
        match self.fault(&e) {
            Some(Fault::DiskFull) => StoreError::DiskFull,
            Some(Fault::Io) => StoreError::Unavailable,
            None => e,
        }
    }

    /// Runs `f` on a consistent read snapshot.
    pub fn read<T, E>(&self, f: impl FnOnce(&ReadTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let db = self.db()?;
        let tx = db.begin_read().map_err(|e| {
            let e = StoreError::from(e);
            match self.fault(&e) {
                Some(_) => StoreError::Unavailable,
                None => e,
            }
        })?;
        f(&tx)
    }

    /// Reports a storage failure seen inside a transaction (a read that met redb's latch).
    pub fn check(&self) {
        if let Ok(db) = self.db()
            && let Err(e) = db.begin_read().map_err(StoreError::from).and_then(|tx| {
                meta::schema_version(&tx)?;
                Ok(())
            })
        {
            self.fault(&e);
        }
    }

    /// Row counts of every catalogued table, and the names of any table in the file that
    /// the catalogue does not list (which must never happen).
    pub fn table_counts(&self) -> Result<TableCounts, StoreError> {
        let db = self.db()?;
        let tx = db.begin_read()?;
        let mut counts = Vec::new();
        let mut unknown = Vec::new();
        for handle in tx.list_tables()? {
            use redb::TableHandle;
            let name = handle.name().to_string();
            match tables::ALL.iter().find(|t| t.name == name) {
                Some(info) => counts.push((info.name, tx.open_untyped_table(handle)?.len()?)),
                None => unknown.push(name),
            }
        }
        for handle in tx.list_multimap_tables()? {
            use redb::MultimapTableHandle;
            let name = handle.name().to_string();
            match tables::ALL.iter().find(|t| t.name == name) {
                Some(info) => {
                    counts.push((info.name, tx.open_untyped_multimap_table(handle)?.len()?))
                }
                None => unknown.push(name),
            }
        }
        Ok((counts, unknown))
    }
}

impl StoreCore {
    /// A verified backup of a consistent snapshot, written while the server keeps serving.
    pub fn backup_to(&self, out: &Path, created_at: i64) -> Result<backup::Manifest, StoreError> {
        let db = self.db()?;
        let tx = db.begin_read()?;
        let schema = meta::schema_version(&tx)?;
        backup::write(&tx, schema, created_at, out)
    }
}
