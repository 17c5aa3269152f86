//! Reads of the order index: `ORDER_KEYS` and `ORDER_COUNTS` with the pending tier laid over
//! them (see `pending`), so every read sees each committed write, folded or not. The tier
//! holds at most a few thousand keys, and a read takes only its range of it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use redb::ReadableTable;

use super::pending::{self, Range};
use super::tables::{ORDER_COUNTS, ORDER_KEYS};
use super::{StoreError, Tx};

/// Up to `take` keys of a range, last first when `backwards`: the stored ones, less those
/// pending as absent, with those pending as present.
fn merged(
    tx: &impl Tx,
    range: Range<'_>,
    backwards: bool,
    take: usize,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    if take == 0 {
        return Ok(out);
    }
    let pending = pending::keys_in(tx, range)?;
    // Enough stored keys that `take` remain once the absent ones are taken out.
    let want = take + pending.iter().filter(|(_, present)| !present).count();
    let t = tx.open(ORDER_KEYS)?;
    let rows = t.range::<&[u8]>(range)?;
    if backwards {
        for row in rows.rev() {
            out.push(row?.0.value().to_vec());
            if out.len() >= want {
                break;
            }
        }
    } else {
        for row in rows {
            out.push(row?.0.value().to_vec());
            if out.len() >= want {
                break;
            }
        }
    }
    if pending.is_empty() {
        return Ok(out);
    }
    let state: BTreeMap<Vec<u8>, bool> = pending.into_iter().collect();
    let mut all: BTreeSet<Vec<u8>> = out
        .into_iter()
        .filter(|k| state.get(k) != Some(&false))
        .collect();
    all.extend(state.into_iter().filter(|(_, p)| *p).map(|(k, _)| k));
    Ok(if backwards {
        all.into_iter().rev().take(take).collect()
    } else {
        all.into_iter().take(take).collect()
    })
}

/// One page of keys under `prefix`: newest (largest) first when `backwards`, starting after
/// `cursor` (a key from the previous page), skipping `skip` keys first.
pub fn keys(
    tx: &impl Tx,
    prefix: &[u8],
    cursor: Option<&[u8]>,
    backwards: bool,
    skip: usize,
    limit: usize,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut end = prefix.to_vec();
    end.push(0xFF);
    // The range never leaves the prefix, whatever cursor a request brings.
    let range: Range<'_> = match (cursor, backwards) {
        (Some(c), true) if c < end.as_slice() => (Bound::Included(prefix), Bound::Excluded(c)),
        (Some(c), false) if c >= prefix => (Bound::Excluded(c), Bound::Excluded(end.as_slice())),
        _ => (Bound::Included(prefix), Bound::Excluded(end.as_slice())),
    };
    if range_is_empty(range) {
        return Ok(Vec::new());
    }
    let page = merged(tx, range, backwards, limit.saturating_add(skip))?;
    Ok(page.into_iter().skip(skip).collect())
}

/// Whether a range has no key at all (redb refuses a range whose start is past its end).
fn range_is_empty((lo, hi): Range<'_>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Excluded(b)) | (Bound::Excluded(a), Bound::Excluded(b)) => {
            a >= b
        }
        _ => false,
    }
}

/// Keys between two keys (`lo` inclusive, `hi` exclusive), newest first when `backwards`,
/// at most `limit`.
pub fn keys_between(
    tx: &impl Tx,
    lo: &[u8],
    hi: &[u8],
    backwards: bool,
    limit: usize,
) -> Result<Vec<Vec<u8>>, StoreError> {
    if lo >= hi {
        return Ok(Vec::new());
    }
    merged(
        tx,
        (Bound::Included(lo), Bound::Excluded(hi)),
        backwards,
        limit,
    )
}

/// Whether an index key exists.
pub fn has_key(tx: &impl Tx, key: &[u8]) -> Result<bool, StoreError> {
    if let Some(present) = pending::key_state(tx, key)? {
        return Ok(present);
    }
    Ok(tx.open(ORDER_KEYS)?.get(key)?.is_some())
}

/// A counter's value (0 when it was never moved).
pub fn count(tx: &impl Tx, counter: &[u8]) -> Result<u64, StoreError> {
    let stored = tx
        .open(ORDER_COUNTS)?
        .get(counter)?
        .map(|v| v.value())
        .unwrap_or(0);
    Ok(pending::with_move(stored, pending::moved(tx, counter)?))
}

/// The values of the counters `keys` (0 for a counter never moved), in their order.
pub fn counts_of(tx: &impl Tx, keys: &[Vec<u8>]) -> Result<Vec<u64>, StoreError> {
    let t = tx.open(ORDER_COUNTS)?;
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let stored = t.get(k.as_slice())?.map(|v| v.value()).unwrap_or(0);
        out.push(pending::with_move(stored, pending::moved(tx, k)?));
    }
    Ok(out)
}

/// Every counter in `[lo, hi)` above 0, with its value (stored, moved by the pending tier).
pub fn counters_between(
    tx: &impl Tx,
    lo: &[u8],
    hi: &[u8],
) -> Result<Vec<(Vec<u8>, u64)>, StoreError> {
    if lo >= hi {
        return Ok(Vec::new());
    }
    let range: Range<'_> = (Bound::Included(lo), Bound::Excluded(hi));
    let mut moves = pending::moves_in(tx, range)?;
    let mut out: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for row in tx.open(ORDER_COUNTS)?.range::<&[u8]>(range)? {
        let (k, v) = row?;
        let key = k.value().to_vec();
        let moved = moves.remove(&key).unwrap_or(0);
        out.insert(key, pending::with_move(v.value(), moved));
    }
    for (k, d) in moves {
        out.insert(k, pending::with_move(0, d));
    }
    Ok(out.into_iter().filter(|(_, n)| *n > 0).collect())
}

/// The first and the last key of a range.
pub type Bounds = (Vec<u8>, Vec<u8>);

/// The first and the last counter key in `[lo, hi)` whose value is above 0.
pub fn count_bounds(tx: &impl Tx, lo: &[u8], hi: &[u8]) -> Result<Option<Bounds>, StoreError> {
    if lo >= hi {
        return Ok(None);
    }
    let range: Range<'_> = (Bound::Included(lo), Bound::Excluded(hi));
    let moves = pending::moves_in(tx, range)?;
    let t = tx.open(ORDER_COUNTS)?;
    let value =
        |k: &[u8], stored: u64| pending::with_move(stored, moves.get(k).copied().unwrap_or(0));
    // The first and the last stored counter still above 0 once moved (a stored counter
    // moved to 0 is passed over: at most as many as the moves).
    let mut first = None;
    for row in t.range::<&[u8]>(range)? {
        let (k, v) = row?;
        if value(k.value(), v.value()) > 0 {
            first = Some(k.value().to_vec());
            break;
        }
    }
    let mut last = None;
    for row in t.range::<&[u8]>(range)?.rev() {
        let (k, v) = row?;
        if value(k.value(), v.value()) > 0 {
            last = Some(k.value().to_vec());
            break;
        }
    }
    // Counters that exist only through their moves, or that moves keep above 0.
    let mut candidates: Vec<Vec<u8>> = first.into_iter().chain(last).collect();
    for (k, _) in moves.iter() {
        let stored = t.get(k.as_slice())?.map(|v| v.value()).unwrap_or(0);
        if value(k, stored) > 0 {
            candidates.push(k.clone());
        }
    }
    let lo = candidates.iter().min().cloned();
    let hi = candidates.into_iter().max();
    Ok(lo.zip(hi))
}

/// The keys and counters the write path keeps now (both tiers).
pub fn stored(tx: &impl Tx) -> Result<super::orders::Index, StoreError> {
    let everything: Range<'_> = (Bound::Unbounded, Bound::Unbounded);
    let mut keys = BTreeSet::new();
    for row in tx.open(ORDER_KEYS)?.iter()? {
        keys.insert(row?.0.value().to_vec());
    }
    for (k, present) in pending::keys_in(tx, everything)? {
        if present {
            keys.insert(k);
        } else {
            keys.remove(&k);
        }
    }
    let mut counts = BTreeMap::new();
    for row in tx.open(ORDER_COUNTS)?.iter()? {
        let (k, v) = row?;
        counts.insert(k.value().to_vec(), v.value());
    }
    for (k, d) in pending::moves_in(tx, everything)? {
        let n = pending::with_move(counts.get(&k).copied().unwrap_or(0), d);
        if n == 0 {
            counts.remove(&k);
        } else {
            counts.insert(k, n);
        }
    }
    Ok((keys, counts))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::store::{Store, pending};

    /// A small deterministic generator (xorshift), so a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn key(&mut self) -> Vec<u8> {
            let len = 1 + self.below(3) as usize;
            (0..len)
                .map(|_| [1u8, 2, 3, 0xFF][self.below(4) as usize])
                .collect()
        }
    }

    /// What the reads must answer, from the model of keys and counters.
    fn model_keys(
        keys: &BTreeSet<Vec<u8>>,
        prefix: &[u8],
        cursor: Option<&[u8]>,
        backwards: bool,
        skip: usize,
        limit: usize,
    ) -> Vec<Vec<u8>> {
        let mut end = prefix.to_vec();
        end.push(0xFF);
        let inside = |k: &&Vec<u8>| {
            k.as_slice() >= prefix
                && k.as_slice() < end.as_slice()
                && match (cursor, backwards) {
                    (Some(c), true) => k.as_slice() < c,
                    (Some(c), false) => k.as_slice() > c,
                    (None, _) => true,
                }
        };
        let mut v: Vec<Vec<u8>> = keys.iter().filter(inside).cloned().collect();
        if backwards {
            v.reverse();
        }
        v.into_iter().skip(skip).take(limit).collect()
    }

    /// Random writes through the pending tier with folds now and then: every read answers
    /// what the keys and counters are, folded or not.
    #[test]
    fn reads_see_the_pending_tier_as_if_it_were_folded() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut keys: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for step in 0..400 {
            // One transaction: a few keys added or removed, a few counters moved.
            let mut added = Vec::new();
            let mut removed = Vec::new();
            let mut moves = Vec::new();
            for _ in 0..1 + rng.below(6) {
                // A key moves once a transaction, as `orders::reindex` moves them.
                let k = rng.key();
                if added.contains(&k) || removed.contains(&k) {
                } else if keys.contains(&k) {
                    keys.remove(&k);
                    removed.push(k);
                } else {
                    keys.insert(k.clone());
                    added.push(k);
                }
                let c = rng.key();
                let now = counts.get(&c).copied().unwrap_or(0);
                let d = rng.below(5) as i64 - now.min(2) as i64;
                let next = now.saturating_add_signed(d);
                if next == 0 {
                    counts.remove(&c);
                } else {
                    counts.insert(c.clone(), next);
                }
                moves.push((c, d));
            }
            // Now and then all of the tier folds, or a chunk of it from some key on.
            let fold = rng.below(10);
            let (from, limit) = (rng.key(), 1 + rng.below(5) as usize);
            store
                .write(|tx| -> Result<(), StoreError> {
                    pending::put_keys(
                        tx,
                        removed.iter().map(Vec::as_slice),
                        added.iter().map(Vec::as_slice),
                    )?;
                    pending::add_counts(tx, moves.clone())?;
                    match fold {
                        0 => drop(pending::fold(tx)?),
                        1 | 2 => drop(pending::fold_some(tx, Some(&from), limit, 8)?),
                        3 => drop(pending::fold_some(tx, None, limit, 8)?),
                        _ => {}
                    }
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
            store
                .read(|tx| check_reads(tx, &mut rng, &keys, &counts, step))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Every kind of read against the model, with random ranges, cursors and pages.
    fn check_reads(
        tx: &impl Tx,
        rng: &mut Rng,
        keys: &BTreeSet<Vec<u8>>,
        counts: &BTreeMap<Vec<u8>, u64>,
        step: usize,
    ) -> Result<(), StoreError> {
        let (k, c) = stored(tx)?;
        assert_eq!(&k, keys, "keys after step {step}");
        assert_eq!(&c, counts, "counters after step {step}");
        for _ in 0..8 {
            let prefix = rng.key();
            let prefix = &prefix[..rng.below(prefix.len() as u64 + 1) as usize];
            let cursor = (rng.below(2) == 0).then(|| rng.key());
            let backwards = rng.below(2) == 0;
            let skip = rng.below(3) as usize;
            let limit = rng.below(6) as usize;
            assert_eq!(
                super::keys(tx, prefix, cursor.as_deref(), backwards, skip, limit)?,
                model_keys(keys, prefix, cursor.as_deref(), backwards, skip, limit),
                "page of {prefix:?} after {cursor:?} backwards {backwards} at step {step}"
            );
            let (lo, hi) = (rng.key(), rng.key());
            let mut want: Vec<Vec<u8>> = keys
                .iter()
                .filter(|k| **k >= lo && **k < hi)
                .cloned()
                .collect();
            if backwards {
                want.reverse();
            }
            want.truncate(limit);
            assert_eq!(keys_between(tx, &lo, &hi, backwards, limit)?, want);
            assert_eq!(has_key(tx, &lo)?, keys.contains(&lo));
            assert_eq!(count(tx, &lo)?, counts.get(&lo).copied().unwrap_or(0));
            assert_eq!(
                counts_of(tx, &[lo.clone(), hi.clone()])?,
                vec![
                    counts.get(&lo).copied().unwrap_or(0),
                    counts.get(&hi).copied().unwrap_or(0)
                ]
            );
            let inside: Vec<&Vec<u8>> = counts.keys().filter(|k| **k >= lo && **k < hi).collect();
            let want = inside
                .first()
                .map(|f| ((*f).clone(), (*inside[inside.len() - 1]).clone()));
            assert_eq!(count_bounds(tx, &lo, &hi)?, want, "bounds at step {step}");
        }
        Ok(())
    }
}
