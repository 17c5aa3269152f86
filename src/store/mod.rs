//! The one store: a redb file in the data directory. The only module that names redb.

pub mod audit;
pub mod backup;
pub mod blacklist;
pub mod blobs;
pub mod codec;
pub mod handover;
pub mod kb;
pub mod meta;
pub mod orders;
pub mod sessions;
pub mod tables;
pub mod units;
pub mod users;

use std::path::{Path, PathBuf};

use redb::{
    Database, Durability, Key, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, Value,
};

pub use redb::{ReadTransaction as ReadTx, WriteTransaction as WriteTx};

/// redb's page cache is capped for a small box.
pub const CACHE_BYTES: usize = 32 * 1024 * 1024;
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
}

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

pub struct Store {
    db: Database,
    dir: PathBuf,
}

/// One migration step: runs in its own write transaction.
type Step = fn(&WriteTx) -> Result<(), StoreError>;

/// The migration ladder; the schema version is the number of steps applied.
const MIGRATIONS: &[(&str, Step)] = &[
    ("create the foundation tables", create_foundation),
    ("create the order tables", create_orders),
    ("create the blacklist tables", create_blacklist),
    ("create the knowledge base tables", create_kb),
    ("create the handover log", create_handover),
    ("create the attachment store", create_blobs),
    (
        "create the order change log for the search index",
        create_changes,
    ),
];

pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

fn create_foundation(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::META)?;
    tx.open_table(tables::USERS)?;
    tx.open_table(tables::USERNAMES)?;
    tx.open_table(tables::SESSIONS)?;
    tx.open_multimap_table(tables::USER_SESSIONS)?;
    tx.open_table(tables::UNITS)?;
    tx.open_table(tables::UNIT_CODES)?;
    tx.open_table(tables::AUDIT)?;
    Ok(())
}

fn create_orders(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::ORDERS)?;
    tx.open_table(tables::ORDER_NUMBERS)?;
    tx.open_table(tables::ORDER_EXTERNAL)?;
    tx.open_table(tables::ORDER_SERIALS)?;
    tx.open_table(tables::ORDER_BY_STATE)?;
    tx.open_table(tables::ORDER_BY_UNIT)?;
    tx.open_table(tables::ORDER_BY_PHONE)?;
    tx.open_table(tables::ORDER_DUE)?;
    tx.open_table(tables::ORDER_VIEWS)?;
    Ok(())
}

fn create_blacklist(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::HARASSMENT)?;
    tx.open_table(tables::BLACKLIST)?;
    Ok(())
}

fn create_kb(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::KB_ARTICLES)?;
    tx.open_table(tables::KB_VERSIONS)?;
    Ok(())
}

/// Creates the change log and enters every existing order once, so the index can be built.
fn create_changes(tx: &WriteTx) -> Result<(), StoreError> {
    let ids: Vec<u64> = {
        let t = tx.open_table(tables::ORDERS)?;
        let mut v = Vec::new();
        for row in t.iter()? {
            v.push(row?.0.value());
        }
        v
    };
    let mut changes = tx.open_table(tables::ORDER_CHANGES)?;
    for (i, id) in ids.into_iter().enumerate() {
        changes.insert(i as u64 + 1, id)?;
    }
    Ok(())
}

fn create_blobs(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::BLOBS)?;
    Ok(())
}

fn create_handover(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::HANDOVER)?;
    Ok(())
}

impl Store {
    /// Opens (or creates) the database in `dir` and brings its schema up to date, copying
    /// the file aside into `dir/backups` before any migration of existing data.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(dir.join(DB_FILE))?;
        let store = Store {
            db,
            dir: dir.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }
}

/// The schema version of the database in `dir`, read without migrating it (for deciding
/// whether a rolled-back binary can still open it).
pub fn peek_schema_version(dir: &Path) -> Result<u64, StoreError> {
    let db = Database::open(dir.join(DB_FILE))?;
    let tx = db.begin_read()?;
    meta::schema_version(&tx)
}

impl Store {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let current = self.read(meta::schema_version)?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        if current == SCHEMA_VERSION {
            return Ok(());
        }
        if current > 0 {
            // The file is idle (every commit so far is durable), so a copy is consistent.
            let dir = self.dir.join("backups");
            std::fs::create_dir_all(&dir)?;
            let name = format!(
                "pre-migration-v{current}-to-v{SCHEMA_VERSION}-{}.redb",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            );
            std::fs::copy(self.dir.join(DB_FILE), dir.join(name))?;
        }
        for (i, (name, step)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = i as u64 + 1;
            self.write(|tx| {
                step(tx)?;
                meta::set_schema_version(tx, version)
            })?;
            tracing::info!(version, step = name, "migration applied");
        }
        Ok(())
    }

    /// Runs `f` in one durable write transaction: all of it commits, or none of it.
    pub fn write<T, E>(&self, f: impl FnOnce(&WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut tx = self.db.begin_write().map_err(StoreError::from)?;
        tx.set_durability(Durability::Immediate)
            .map_err(StoreError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Runs `f` on a consistent read snapshot.
    pub fn read<T, E>(&self, f: impl FnOnce(&ReadTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let tx = self.db.begin_read().map_err(StoreError::from)?;
        f(&tx)
    }

    /// Row counts of every catalogued table, and the names of any table in the file that
    /// the catalogue does not list (which must never happen).
    pub fn table_counts(&self) -> Result<TableCounts, StoreError> {
        let tx = self.db.begin_read()?;
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

impl Store {
    /// A verified backup of a consistent snapshot, written while the server keeps serving.
    pub fn backup_to(&self, out: &Path, created_at: i64) -> Result<backup::Manifest, StoreError> {
        let tx = self.db.begin_read()?;
        let schema = meta::schema_version(&tx)?;
        backup::write(&tx, schema, created_at, out)
    }
}
