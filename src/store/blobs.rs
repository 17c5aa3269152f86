//! Attachment bytes, keyed by their SHA-256.

use redb::ReadableTable;

use super::tables::BLOBS;
use super::{StoreError, Tx, WriteTx};

/// Stores bytes under their hash unless already there.
pub fn put(tx: &WriteTx, hash: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let mut t = tx.open_table(BLOBS)?;
    if t.get(hash)?.is_none() {
        t.insert(hash, bytes)?;
    }
    Ok(())
}

pub fn get(tx: &impl Tx, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let t = tx.open(BLOBS)?;
    let v = t.get(hash)?;
    Ok(v.map(|v| v.value().to_vec()))
}

pub fn count(tx: &impl Tx) -> Result<u64, StoreError> {
    use redb::ReadableTableMetadata;
    Ok(tx.open(BLOBS)?.len()?)
}
