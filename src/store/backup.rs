//! Backups: a consistent snapshot copied table by table from one read transaction (the
//! server keeps writing meanwhile) into a new redb file, checked by reopening it and
//! comparing every table's row count, then sealed with a trailer that carries the manifest
//! and the SHA-256 of the database bytes. What is derived from the orders (index keys,
//! counters, list rows, facts) is left out and made anew when a restored database opens.
//!
//! File layout: `[redb file][manifest JSON][8-byte LE manifest length][MAGIC]`.

use std::io::{Read, Write};
use std::path::Path;

use redb::{Database, Durability, Key, ReadableDatabase, ReadableTable, TableDefinition, Value};
use ring::digest::{Context, SHA256};
use serde::{Deserialize, Serialize};

use super::tables::{self, ALL, Kind};
use super::{ReadTx, StoreError, WriteTx};
use crate::domain::audit::hex;

pub const MAGIC: &[u8; 8] = b"HLBAK\x00v1";
pub const EXT: &str = "hlbak";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub program_version: String,
    pub schema_version: u64,
    /// Unix seconds.
    pub created_at: i64,
    pub counts: Vec<(String, u64)>,
    /// Hex SHA-256 of the database bytes that precede the trailer.
    pub sha256: String,
    pub bytes: u64,
}

fn copy<K: Key + 'static, V: Value + 'static>(
    src: &ReadTx,
    dst: &WriteTx,
    def: TableDefinition<K, V>,
) -> Result<u64, StoreError> {
    let from = match src.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            dst.open_table(def)?;
            return Ok(0);
        }
        Err(e) => return Err(e.into()),
    };
    let mut to = dst.open_table(def)?;
    let mut n = 0;
    for row in from.iter()? {
        let (k, v) = row?;
        to.insert(k.value(), v.value())?;
        n += 1;
    }
    Ok(n)
}

/// Copies every catalogued table (derived ones empty); returns (name, rows) in catalogue order. Adding a table to
/// `tables.rs` without adding it here fails the test that compares this list with `ALL`.
pub fn copy_all(src: &ReadTx, dst: &WriteTx) -> Result<Vec<(&'static str, u64)>, StoreError> {
    use tables::*;
    let mut out = vec![
        ("meta-v1", copy(src, dst, META)?),
        ("users-v1", copy(src, dst, USERS)?),
        ("usernames-v1", copy(src, dst, USERNAMES)?),
        ("sessions-v1", 0),
    ];
    // Sessions are not restored: a restored box starts with everyone signed out.
    dst.open_table(SESSIONS)?;
    dst.open_multimap_table(USER_SESSIONS)?;
    out.push(("user-sessions-v1", 0));
    out.extend([
        ("units-v1", copy(src, dst, UNITS)?),
        ("unit-codes-v1", copy(src, dst, UNIT_CODES)?),
        ("audit-v1", copy(src, dst, AUDIT)?),
        ("orders-v1", copy(src, dst, ORDERS)?),
        ("order-numbers-v1", copy(src, dst, ORDER_NUMBERS)?),
        ("order-external-v1", copy(src, dst, ORDER_EXTERNAL)?),
        ("order-serials-v1", copy(src, dst, ORDER_SERIALS)?),
        ("order-views-v1", copy(src, dst, ORDER_VIEWS)?),
        ("harassment-v1", copy(src, dst, HARASSMENT)?),
        ("blacklist-v1", copy(src, dst, BLACKLIST)?),
        ("kb-articles-v1", copy(src, dst, KB_ARTICLES)?),
        ("kb-versions-v1", copy(src, dst, KB_VERSIONS)?),
        ("handover-v1", copy(src, dst, HANDOVER)?),
        ("blobs-v1", copy(src, dst, BLOBS)?),
        ("order-changes-v1", copy(src, dst, ORDER_CHANGES)?),
        ("appeals-v1", copy(src, dst, APPEALS)?),
        ("appeal-keys-v1", copy(src, dst, APPEAL_KEYS)?),
        ("inspections-v1", copy(src, dst, INSPECTIONS)?),
        ("inspection-keys-v1", copy(src, dst, INSPECTION_KEYS)?),
        ("typical-cases-v1", copy(src, dst, TYPICAL_CASES)?),
    ]);
    // Derived from the orders, so left out (most of a big box's rows): `Store::open` makes
    // them anew when it finds orders without list rows.
    dst.open_table(ORDER_KEYS)?;
    dst.open_table(ORDER_COUNTS)?;
    dst.open_table(ORDER_KEYS_PENDING)?;
    dst.open_table(ORDER_COUNTS_PENDING)?;
    dst.open_table(ORDER_ROWS)?;
    dst.open_table(ORDER_FACTS)?;
    dst.open_table(ORDER_GISTS)?;
    out.extend([
        ("order-keys-v1", 0),
        ("order-counts-v1", 0),
        ("order-keys-pending-v1", 0),
        ("order-counts-pending-v1", 0),
        ("order-rows-v1", 0),
        ("order-facts-v1", 0),
        ("order-gists-v1", 0),
    ]);
    Ok(out)
}

fn sha256_file(path: &Path, limit: u64) -> Result<String, StoreError> {
    let mut f = std::fs::File::open(path)?.take(limit);
    let mut ctx = Context::new(&SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(hex(ctx.finish().as_ref()))
}

/// Row counts of every catalogued table in an opened backup database.
fn counts(db: &Database) -> Result<Vec<(String, u64)>, StoreError> {
    use redb::{MultimapTableHandle, ReadableTableMetadata, TableHandle};
    let tx = db.begin_read()?;
    let mut out = Vec::new();
    for info in ALL {
        let n = match info.kind {
            Kind::Table => tx
                .list_tables()?
                .find(|h| h.name() == info.name)
                .map(|h| tx.open_untyped_table(h).and_then(|t| Ok(t.len()?)))
                .transpose()?
                .unwrap_or(0),
            Kind::Multimap => tx
                .list_multimap_tables()?
                .find(|h| h.name() == info.name)
                .map(|h| tx.open_untyped_multimap_table(h).and_then(|t| Ok(t.len()?)))
                .transpose()?
                .unwrap_or(0),
        };
        out.push((info.name.to_string(), n));
    }
    Ok(out)
}

/// Writes a verified backup of the snapshot `src` to `out` (through a temp file, renamed into
/// place only when complete and checked).
pub fn write(
    src: &ReadTx,
    schema_version: u64,
    created_at: i64,
    out: &Path,
) -> Result<Manifest, StoreError> {
    let tmp = out.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let started = std::time::Instant::now();
    let copied = {
        let db = Database::builder()
            .set_cache_size(8 * 1024 * 1024)
            .create(&tmp)?;
        let mut tx = db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        let copied = copy_all(src, &tx)?;
        tx.commit()?;
        copied
    };
    let copy_s = started.elapsed().as_secs_f64();
    // Reopen and compare: what was copied is what is there.
    let reopened = counts(&Database::open(&tmp)?)?;
    for (name, n) in &copied {
        let found = reopened
            .iter()
            .find(|(m, _)| m == name)
            .map(|(_, c)| *c)
            .unwrap_or(0);
        if found != *n {
            let _ = std::fs::remove_file(&tmp);
            return Err(StoreError::Codec {
                kind: "backup",
                detail: format!("table {name}: copied {n} rows, found {found}"),
            });
        }
    }
    let bytes = std::fs::metadata(&tmp)?.len();
    let manifest = Manifest {
        program_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version,
        created_at,
        counts: reopened,
        sha256: sha256_file(&tmp, bytes)?,
        bytes,
    };
    let json = serde_json::to_vec(&manifest).map_err(|e| StoreError::Codec {
        kind: "backup",
        detail: e.to_string(),
    })?;
    {
        let mut f = std::fs::OpenOptions::new().append(true).open(&tmp)?;
        f.write_all(&json)?;
        f.write_all(&(json.len() as u64).to_le_bytes())?;
        f.write_all(MAGIC)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, out)?;
    tracing::info!(
        bytes,
        copy_s,
        check_and_hash_s = started.elapsed().as_secs_f64() - copy_s,
        "backup written"
    );
    Ok(manifest)
}

/// Reads and checks a backup file: trailer, hash, and that the database opens with the
/// manifest's row counts. Returns the manifest.
pub fn verify(file: &Path) -> Result<Manifest, StoreError> {
    let bad = |detail: String| StoreError::Codec {
        kind: "backup",
        detail,
    };
    let len = std::fs::metadata(file)?.len();
    if len < 16 {
        return Err(bad("file too short to be a backup".into()));
    }
    let mut f = std::fs::File::open(file)?;
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(len - 16))?;
    let mut tail = [0u8; 16];
    f.read_exact(&mut tail)?;
    if &tail[8..] != MAGIC {
        return Err(bad("not a hotline backup (no trailer)".into()));
    }
    let mlen = u64::from_le_bytes(tail[..8].try_into().unwrap_or([0; 8]));
    if mlen == 0 || mlen > len - 16 {
        return Err(bad("damaged trailer".into()));
    }
    f.seek(std::io::SeekFrom::Start(len - 16 - mlen))?;
    let mut json = vec![0u8; mlen as usize];
    f.read_exact(&mut json)?;
    let manifest: Manifest =
        serde_json::from_slice(&json).map_err(|e| bad(format!("damaged manifest: {e}")))?;
    if manifest.bytes != len - 16 - mlen {
        return Err(bad("size does not match the manifest".into()));
    }
    let sha = sha256_file(file, manifest.bytes)?;
    if sha != manifest.sha256 {
        return Err(bad("SHA-256 does not match: the file is damaged".into()));
    }
    // Open a copy of the database part and compare counts.
    let dir = std::env::temp_dir().join(format!(
        "hotline-verify-{}-{}",
        std::process::id(),
        manifest.created_at
    ));
    std::fs::create_dir_all(&dir)?;
    let db_path = dir.join("check.redb");
    extract_db(file, manifest.bytes, &db_path)?;
    let result = Database::open(&db_path)
        .map_err(StoreError::from)
        .and_then(|db| counts(&db));
    let _ = std::fs::remove_dir_all(&dir);
    let found = result?;
    for (name, n) in &manifest.counts {
        let f = found
            .iter()
            .find(|(m, _)| m == name)
            .map(|(_, c)| *c)
            .unwrap_or(0);
        if f != *n {
            return Err(bad(format!(
                "table {name}: manifest says {n} rows, file has {f}"
            )));
        }
    }
    Ok(manifest)
}

/// Copies the database part of a backup to `to`.
pub fn extract_db(file: &Path, bytes: u64, to: &Path) -> Result<(), StoreError> {
    let mut src = std::fs::File::open(file)?.take(bytes);
    let mut dst = std::fs::File::create(to)?;
    std::io::copy(&mut src, &mut dst)?;
    dst.sync_all()?;
    Ok(())
}
