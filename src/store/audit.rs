//! The audit table: append in the same transaction as the change it records.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::AUDIT;
use super::{StoreError, Tx, WriteTx};
use crate::domain::audit::{AuditEntry, AuditEvent, seal};
use crate::domain::time::Timestamp;

pub fn append(tx: &WriteTx, at: Timestamp, event: AuditEvent) -> Result<AuditEntry, StoreError> {
    let mut table = tx.open_table(AUDIT)?;
    let prev: Option<AuditEntry> = match table.last()? {
        Some((_, v)) => Some(decode(v.value())?),
        None => None,
    };
    let entry = seal(event, at, prev.as_ref().map(|p| (p.seq, p.hash.as_str())));
    table.insert(entry.seq, encode(&entry)?.as_slice())?;
    Ok(entry)
}

/// Visits entries from `from_seq` upwards until `f` returns false.
pub fn scan(
    tx: &impl Tx,
    from_seq: u64,
    mut f: impl FnMut(Result<AuditEntry, StoreError>) -> bool,
) -> Result<(), StoreError> {
    let table = tx.open(AUDIT)?;
    for row in table.range(from_seq..)? {
        let (_, v) = row?;
        if !f(decode(v.value())) {
            break;
        }
    }
    Ok(())
}

/// Visits entries newest first until `f` returns false.
pub fn scan_rev(tx: &impl Tx, mut f: impl FnMut(AuditEntry) -> bool) -> Result<(), StoreError> {
    let table = tx.open(AUDIT)?;
    for row in table.iter()?.rev() {
        let (_, v) = row?;
        if !f(decode(v.value())?) {
            break;
        }
    }
    Ok(())
}

/// Overwrites a stored entry as-is. Only for tests that prove tampering is detected.
#[doc(hidden)]
pub fn overwrite_for_test(tx: &WriteTx, entry: &AuditEntry) -> Result<(), StoreError> {
    tx.open_table(AUDIT)?
        .insert(entry.seq, encode(entry)?.as_slice())?;
    Ok(())
}
