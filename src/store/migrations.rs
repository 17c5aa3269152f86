//! The migration ladder: each step brings the schema one version up; the version stored in
//! the file is the number of steps applied.

use redb::ReadableTable;

use super::{DB_FILE, StoreCore, StoreError, WriteTx, facts, gists, meta, orders, pending, tables};

/// One migration step.
#[derive(Clone, Copy)]
enum Step {
    /// Runs whole in one write transaction with the version bump.
    Whole(fn(&WriteTx) -> Result<(), StoreError>),
    /// Runs in bounded batches, each its own commit (so pages a batch frees are reused by the
    /// next and the file does not grow by the size of what is rewritten), until it says it
    /// is done; the version bump commits with the last batch. It must be safe to start over
    /// (a crash between batches runs it again from `0`). The `u64` is its cursor.
    Batched(fn(&WriteTx, &mut u64) -> Result<bool, StoreError>),
}

/// The migration ladder; the schema version is the number of steps applied.
const MIGRATIONS: &[(&str, Step)] = &[
    (
        "create the foundation tables",
        Step::Whole(create_foundation),
    ),
    ("create the order tables", Step::Whole(create_orders)),
    ("create the blacklist tables", Step::Whole(create_blacklist)),
    ("create the knowledge base tables", Step::Whole(create_kb)),
    ("create the handover log", Step::Whole(create_handover)),
    ("create the attachment store", Step::Whole(create_blobs)),
    (
        "create the order change log for the search index",
        Step::Whole(create_changes),
    ),
    (
        "index every order by keys, counters and list rows; retire the old indexes",
        Step::Whole(orders::migrate_to_keys),
    ),
    (
        "index orders by address too",
        Step::Whole(orders::rebuild_index),
    ),
    (
        "index orders by two list filters at once",
        Step::Whole(orders::add_pair_keys),
    ),
    (
        "keep per-day facts for the reports",
        Step::Whole(facts::rebuild),
    ),
    (
        "store orders compressed against the orders' dictionary",
        Step::Batched(orders::recompress),
    ),
    (
        "keep the gists of the last quarter's orders for duplicate hints",
        Step::Whole(gists::rebuild),
    ),
    (
        "key the per-day counters day first",
        Step::Whole(orders::rekey_day_counters),
    ),
    (
        "write index keys and counters through a pending tier folded in bulk",
        Step::Whole(pending::fold_all),
    ),
    (
        "store timeline entries as action codes with typed parameters",
        Step::Batched(orders::upgrade_timelines),
    ),
    (
        "index the orders behind each unit's assessment figures",
        Step::Batched(orders::add_unit_events),
    ),
    (
        "create the units' appeal tables",
        Step::Whole(create_appeals),
    ),
    (
        "create the QA inspection tables",
        Step::Whole(create_inspections),
    ),
    (
        "create the typical cases table",
        Step::Whole(create_typical),
    ),
    (
        "count the words of the titles and the operators' after-call work",
        Step::Batched(super::facts::add_schema_21_facts),
    ),
    (
        "index the last four digits of the callers' numbers",
        Step::Batched(orders::add_phone_tails),
    ),
    (
        "index the orders' 查询码",
        Step::Batched(orders::add_query_codes),
    ),
    (
        "create the call log and the platforms' outbox",
        Step::Whole(create_connections),
    ),
];

pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;
/// The first schema with the index's pending tier (`pending`).
const PENDING_SINCE: u64 = 15;

fn create_appeals(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::APPEALS)?;
    tx.open_table(tables::APPEAL_KEYS)?;
    Ok(())
}

fn create_connections(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::CALLS)?;
    tx.open_table(tables::OUTBOX)?;
    tx.open_table(tables::OUTBOX_KEYS)?;
    Ok(())
}

fn create_typical(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::TYPICAL_CASES)?;
    Ok(())
}

fn create_inspections(tx: &WriteTx) -> Result<(), StoreError> {
    tx.open_table(tables::INSPECTIONS)?;
    tx.open_table(tables::INSPECTION_KEYS)?;
    Ok(())
}

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
    tx.open_table(tables::retired::ORDER_BY_STATE)?;
    tx.open_table(tables::retired::ORDER_BY_UNIT)?;
    tx.open_table(tables::retired::ORDER_BY_PHONE)?;
    tx.open_table(tables::retired::ORDER_DUE)?;
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

impl StoreCore {
    pub(super) fn migrate(&self) -> Result<(), StoreError> {
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
        if current >= PENDING_SINCE {
            // Migrations edit the index's big tables: what waits in the pending tier goes
            // into them first.
            self.write(pending::fold_all)?;
        }
        for (i, (name, step)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = i as u64 + 1;
            match step {
                Step::Whole(f) => self.write(|tx| {
                    f(tx)?;
                    meta::set_schema_version(tx, version)
                })?,
                Step::Batched(f) => {
                    let mut cursor = 0u64;
                    while !self.write(|tx| {
                        let done = f(tx, &mut cursor)?;
                        if done {
                            meta::set_schema_version(tx, version)?;
                        }
                        Ok::<_, StoreError>(done)
                    })? {}
                }
            }
            tracing::info!(version, step = name, "migration applied");
        }
        Ok(())
    }
}
