//! The shift handover log: notes in order, newest last.

use redb::ReadableTable;

use super::tables::HANDOVER;
use super::{StoreError, Tx, WriteTx};

pub fn append(tx: &WriteTx, record: &[u8]) -> Result<u64, StoreError> {
    let mut t = tx.open_table(HANDOVER)?;
    let seq = t.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1;
    t.insert(seq, record)?;
    Ok(seq)
}

/// The newest `limit` notes, newest first.
pub fn recent(tx: &impl Tx, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
    let t = tx.open(HANDOVER)?;
    let mut out = Vec::new();
    for row in t.iter()?.rev().take(limit) {
        out.push(row?.1.value().to_vec());
    }
    Ok(out)
}
