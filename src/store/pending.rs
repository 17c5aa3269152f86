//! The index's pending tier: keys and counter moves written with their order, folded into
//! `ORDER_KEYS` and `ORDER_COUNTS` in bulk.
//!
//! An order's write moves about twenty index keys and thirty counters spread over the whole
//! key space (a caller's number, an address, a category, each filter pair). Written in
//! place, each dirtied its own leaf and branch pages: a commit wrote about a hundred pages
//! (400 KiB) for one order, and the disk's bandwidth, not the fsync, bounded intake.
//!
//! So the write path puts them here, in the same transaction as the order: two small tables
//! (a key and whether it is now present; a counter and how far it moved) whose few pages
//! a whole batch shares. Once `FOLD_AT` keys wait, each write (a batch, or a one-off write
//! such as a bulk load) also folds about as many of them into the big tables as it added, in
//! its own transaction, in key order from where the last fold stopped — so the keys of many
//! orders that share a leaf are written together, and no fold stalls the writer; a writer
//! idle for a moment folds them all. Every read of keys and counters (`store::index`) lays
//! this tier over the big tables, so a list read just after a write shows it; a fold moves a
//! key from one tier to the other inside one transaction, so a crash leaves both whole.

use std::collections::BTreeMap;
use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata};

use super::orders::add_to_sums;
use super::tables::{ORDER_COUNTS, ORDER_COUNTS_PENDING, ORDER_KEYS, ORDER_KEYS_PENDING};
use super::{StoreError, Tx, WriteTx};

/// Keys waiting before each batch folds some of them in its own transaction, without waiting
/// for a quiet moment (about two hundred new orders); a quiet moment folds them all.
pub const FOLD_AT: u64 = 4096;
/// The fewest keys a batch folds then: in key order from where the last batch stopped, so
/// every part of the key space gets its turn.
pub const FOLD_MIN: u64 = 32;
/// Counters moved before a fold under load takes them too (they are point reads, and a
/// busy day moves the same few hundred again and again).
pub const COUNTS_AT: u64 = 2048;

/// Marks a key present or absent, to be folded.
pub fn put_keys<'k>(
    tx: &WriteTx,
    removed: impl IntoIterator<Item = &'k [u8]>,
    added: impl IntoIterator<Item = &'k [u8]>,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(ORDER_KEYS_PENDING)?;
    for k in removed {
        t.insert(k, 0)?;
    }
    for k in added {
        t.insert(k, 1)?;
    }
    Ok(())
}

/// Adds counter moves to the pending ones (a move that comes back to 0 is dropped).
pub fn add_counts(
    tx: &WriteTx,
    moves: impl IntoIterator<Item = (Vec<u8>, i64)>,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(ORDER_COUNTS_PENDING)?;
    for (k, d) in moves.into_iter().filter(|(_, d)| *d != 0) {
        let n = t.get(k.as_slice())?.map(|v| v.value()).unwrap_or(0) + d;
        if n == 0 {
            t.remove(k.as_slice())?;
        } else {
            t.insert(k.as_slice(), n)?;
        }
    }
    Ok(())
}

/// How many keys wait to be folded.
pub fn waiting(tx: &impl Tx) -> Result<u64, StoreError> {
    Ok(tx.open(ORDER_KEYS_PENDING)?.len()?)
}

/// Folds every pending key and counter move into the big tables and empties the tier;
/// returns how many keys it folded.
pub fn fold(tx: &WriteTx) -> Result<u64, StoreError> {
    fold_some(tx, None, usize::MAX, 0).map(|(n, _)| n)
}

/// Folds up to `limit` pending keys, the first after `after` in key order (wrapping round to
/// the first key), and the counters once `COUNTS_AT` wait; returns how many keys it folded
/// and the last one (where the next fold goes on).
pub fn fold_some(
    tx: &WriteTx,
    after: Option<&[u8]>,
    limit: usize,
    counts_at: u64,
) -> Result<(u64, Option<Vec<u8>>), StoreError> {
    let mut chunk: Vec<(Vec<u8>, bool)> = Vec::new();
    {
        let pending = tx.open_table(ORDER_KEYS_PENDING)?;
        let mut take = |range: Range<'_>| -> Result<(), StoreError> {
            for row in pending.range::<&[u8]>(range)? {
                if chunk.len() >= limit {
                    break;
                }
                let (k, present) = row?;
                chunk.push((k.value().to_vec(), present.value() == 1));
            }
            Ok(())
        };
        match after {
            Some(a) => {
                take((Bound::Excluded(a), Bound::Unbounded))?;
                take((Bound::Unbounded, Bound::Included(a)))?;
            }
            None => take((Bound::Unbounded, Bound::Unbounded))?,
        }
    }
    {
        let mut keys = tx.open_table(ORDER_KEYS)?;
        let mut pending = tx.open_table(ORDER_KEYS_PENDING)?;
        for (k, present) in &chunk {
            if *present {
                keys.insert(k.as_slice(), ())?;
            } else {
                keys.remove(k.as_slice())?;
            }
            pending.remove(k.as_slice())?;
        }
    }
    if tx.open_table(ORDER_COUNTS_PENDING)?.len()? >= counts_at {
        fold_counts(tx)?;
        tx.delete_table(ORDER_COUNTS_PENDING)?;
        tx.open_table(ORDER_COUNTS_PENDING)?;
    }
    Ok((chunk.len() as u64, chunk.pop().map(|(k, _)| k)))
}

/// Adds every pending counter move to its counter (the pending ones stay: the caller
/// empties their table).
fn fold_counts(tx: &WriteTx) -> Result<(), StoreError> {
    let pending = tx.open_table(ORDER_COUNTS_PENDING)?;
    let mut moves = Vec::new();
    for row in pending.iter()? {
        let (k, d) = row?;
        moves.push((k.value().to_vec(), d.value()));
    }
    add_to_sums(&mut tx.open_table(ORDER_COUNTS)?, moves)
}

/// Folds the whole tier (creating its tables if they are missing): a migration step.
pub fn fold_all(tx: &WriteTx) -> Result<(), StoreError> {
    fold(tx).map(drop)
}

/// Empties the tier (after a fold, or when the big tables are made anew from the orders).
pub fn clear(tx: &WriteTx) -> Result<(), StoreError> {
    tx.delete_table(ORDER_KEYS_PENDING)?;
    tx.delete_table(ORDER_COUNTS_PENDING)?;
    tx.open_table(ORDER_KEYS_PENDING)?;
    tx.open_table(ORDER_COUNTS_PENDING)?;
    Ok(())
}

/// A range of keys, as `ORDER_KEYS` is read.
pub type Range<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// The pending keys in a range, in key order, each with whether it is now present.
pub fn keys_in(tx: &impl Tx, range: Range<'_>) -> Result<Vec<(Vec<u8>, bool)>, StoreError> {
    let t = tx.open(ORDER_KEYS_PENDING)?;
    let mut out = Vec::new();
    for row in t.range::<&[u8]>(range)? {
        let (k, present) = row?;
        out.push((k.value().to_vec(), present.value() == 1));
    }
    Ok(out)
}

/// Whether a key is pending as present (`Some(true)`), as absent, or not pending at all.
pub fn key_state(tx: &impl Tx, key: &[u8]) -> Result<Option<bool>, StoreError> {
    Ok(tx
        .open(ORDER_KEYS_PENDING)?
        .get(key)?
        .map(|v| v.value() == 1))
}

/// The pending moves of counters in a range, in key order.
pub fn moves_in(tx: &impl Tx, range: Range<'_>) -> Result<BTreeMap<Vec<u8>, i64>, StoreError> {
    let t = tx.open(ORDER_COUNTS_PENDING)?;
    let mut out = BTreeMap::new();
    for row in t.range::<&[u8]>(range)? {
        let (k, d) = row?;
        out.insert(k.value().to_vec(), d.value());
    }
    Ok(out)
}

/// How far a counter has moved since the last fold.
pub fn moved(tx: &impl Tx, counter: &[u8]) -> Result<i64, StoreError> {
    Ok(tx
        .open(ORDER_COUNTS_PENDING)?
        .get(counter)?
        .map(|v| v.value())
        .unwrap_or(0))
}

/// A stored counter with its pending move.
pub fn with_move(stored: u64, moved: i64) -> u64 {
    stored.saturating_add_signed(moved)
}
