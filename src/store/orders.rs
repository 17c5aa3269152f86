//! Orders, their index keys, counters and list rows — all written by `put`, the one write
//! path, in the caller's transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use redb::ReadableTable;

use super::codec::{Record, decode, encode};
use super::tables::{
    ORDER_CHANGES, ORDER_COUNTS, ORDER_EXTERNAL, ORDER_KEYS, ORDER_NUMBERS, ORDER_ROWS,
    ORDER_SERIALS, ORDER_VIEWS, ORDERS, retired,
};
use super::{StoreError, Tx, WriteTx};
use crate::domain::order::{Order, OrderGist, OrderId};
use crate::domain::order_index::{Entry, Row, entries};

pub use super::index::{
    Bounds, count, count_bounds, counters_between, counts_of, has_key, keys, keys_between, stored,
};

/// Whole orders and list rows decoded since start (for `/metrics`, and for the tests that
/// prove lists decode one page).
static ORDER_DECODES: AtomicU64 = AtomicU64::new(0);
static ROW_DECODES: AtomicU64 = AtomicU64::new(0);

pub fn decodes() -> (u64, u64) {
    (
        ORDER_DECODES.load(Ordering::Relaxed),
        ROW_DECODES.load(Ordering::Relaxed),
    )
}

impl Record for Row {
    const KIND: &'static str = "order row";
    const VERSION: u8 = 1;
}

pub fn get(tx: &impl Tx, id: OrderId) -> Result<Option<Order>, StoreError> {
    let t = tx.open(ORDERS)?;
    let v = t.get(id.0)?;
    ORDER_DECODES.fetch_add(u64::from(v.is_some()), Ordering::Relaxed);
    v.map(|v| decode(v.value())).transpose()
}

/// The few fields of an order duplicate hints compare (the rest of the record is skipped
/// while decoding).
pub fn gist(tx: &impl Tx, id: OrderId) -> Result<Option<OrderGist>, StoreError> {
    let t = tx.open(ORDERS)?;
    let v = t.get(id.0)?;
    ORDER_DECODES.fetch_add(u64::from(v.is_some()), Ordering::Relaxed);
    v.map(|v| decode(v.value())).transpose()
}

/// The compact list row of an order.
pub fn row(tx: &impl Tx, id: OrderId) -> Result<Option<Row>, StoreError> {
    let t = tx.open(ORDER_ROWS)?;
    let v = t.get(id.0)?;
    ROW_DECODES.fetch_add(u64::from(v.is_some()), Ordering::Relaxed);
    v.map(|v| decode(v.value())).transpose()
}

pub fn id_by_number(tx: &impl Tx, number: &str) -> Result<Option<OrderId>, StoreError> {
    let t = tx.open(ORDER_NUMBERS)?;
    let v = t.get(number)?;
    Ok(v.map(|v| OrderId(v.value())))
}

pub fn id_by_external(tx: &impl Tx, key: &str) -> Result<Option<OrderId>, StoreError> {
    let t = tx.open(ORDER_EXTERNAL)?;
    let v = t.get(key)?;
    Ok(v.map(|v| OrderId(v.value())))
}

pub fn next_id(tx: &WriteTx) -> Result<OrderId, StoreError> {
    let t = tx.open_table(ORDERS)?;
    let last = t.last()?.map(|(k, _)| k.value()).unwrap_or(0);
    Ok(OrderId(last + 1))
}

/// The next daily serial for `YYYYMMDD`; never reused.
pub fn next_serial(tx: &WriteTx, day: &str) -> Result<u32, StoreError> {
    let mut t = tx.open_table(ORDER_SERIALS)?;
    let n = t.get(day)?.map(|v| v.value()).unwrap_or(0) + 1;
    t.insert(day, n)?;
    Ok(n)
}

/// Index keys of an order with the counters each moves, by key.
fn keyed(o: &Order) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    entries(o)
        .into_iter()
        .map(|Entry { key, counters }| (key, counters))
        .collect()
}

/// Adds each change to its sum in a table of sums (counters, facts); a sum that reaches 0
/// is removed.
pub(super) fn add_to_sums(
    t: &mut redb::Table<&[u8], u64>,
    moves: impl IntoIterator<Item = (Vec<u8>, i64)>,
) -> Result<(), StoreError> {
    for (k, d) in moves.into_iter().filter(|(_, d)| *d != 0) {
        let n = t.get(k.as_slice())?.map(|v| v.value()).unwrap_or(0);
        let n = n.saturating_add_signed(d);
        if n == 0 {
            t.remove(k.as_slice())?;
        } else {
            t.insert(k.as_slice(), n)?;
        }
    }
    Ok(())
}

/// Brings keys and counters from what `old` had to what `new` has.
fn reindex(tx: &WriteTx, old: Option<&Order>, new: &Order) -> Result<(), StoreError> {
    let before = old.map(keyed).unwrap_or_default();
    let after = keyed(new);
    let mut moves: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    let mut removed = Vec::new();
    for (k, counters) in &before {
        if !after.contains_key(k) {
            removed.push(k.as_slice());
            for c in counters {
                *moves.entry(c.clone()).or_default() -= 1;
            }
        }
    }
    let mut added = Vec::new();
    for (k, counters) in &after {
        if !before.contains_key(k) {
            added.push(k.as_slice());
            for c in counters {
                *moves.entry(c.clone()).or_default() += 1;
            }
        }
    }
    // Into the pending tier, folded in bulk by the writer (see `pending`).
    super::pending::put_keys(tx, removed, added)?;
    super::sums::add(tx, super::sums::Sums::Counts, moves)
}

/// The one write path: the order, its change-log entry, its numbers, its list row, and every
/// index key, counter and per-day fact it has, moved from what `old` (the stored version) had.
pub fn put(tx: &WriteTx, old: Option<&Order>, new: &Order) -> Result<(), StoreError> {
    tx.open_table(ORDERS)?
        .insert(new.id.0, encode(new)?.as_slice())?;
    {
        let mut changes = tx.open_table(ORDER_CHANGES)?;
        let seq = changes.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1;
        changes.insert(seq, new.id.0)?;
    }
    if old.is_none() {
        tx.open_table(ORDER_NUMBERS)?
            .insert(new.number.as_str(), new.id.0)?;
        if let Some(ext) = &new.external_id {
            let key = external_key(new.channel.code(), ext);
            tx.open_table(ORDER_EXTERNAL)?
                .insert(key.as_str(), new.id.0)?;
        }
    }
    tx.open_table(ORDER_ROWS)?
        .insert(new.id.0, encode(&Row::of(new))?.as_slice())?;
    reindex(tx, old, new)?;
    super::gists::put(tx, old, new)?;
    super::facts::apply(tx, old, new)
}

/// Maps an idempotency key to an order (platform numbers, intake form tokens).
pub fn set_external(tx: &WriteTx, key: &str, id: OrderId) -> Result<(), StoreError> {
    tx.open_table(ORDER_EXTERNAL)?.insert(key, id.0)?;
    Ok(())
}

pub fn external_key(channel: &str, external_id: &str) -> String {
    format!("{channel}:{external_id}")
}

pub fn count_all(tx: &impl Tx) -> Result<u64, StoreError> {
    use redb::ReadableTableMetadata;
    Ok(tx.open(ORDERS)?.len()?)
}

/// Records that someone looked at (or revealed) an order's caller.
pub fn record_view(tx: &WriteTx, id: OrderId, record: &[u8]) -> Result<(), StoreError> {
    let mut t = tx.open_table(ORDER_VIEWS)?;
    let next = t
        .range((id.0, 0)..=(id.0, u64::MAX))?
        .next_back()
        .transpose()?
        .map(|(k, _)| k.value().1 + 1)
        .unwrap_or(1);
    t.insert((id.0, next), record)?;
    Ok(())
}

pub fn views(tx: &impl Tx, id: OrderId) -> Result<Vec<Vec<u8>>, StoreError> {
    let t = tx.open(ORDER_VIEWS)?;
    let mut out = Vec::new();
    for row in t.range((id.0, 0)..=(id.0, u64::MAX))? {
        out.push(row?.1.value().to_vec());
    }
    Ok(out)
}

/// The sequence number of the newest order change (0 when none).
pub fn last_change(tx: &impl Tx) -> Result<u64, StoreError> {
    Ok(tx
        .open(ORDER_CHANGES)?
        .last()?
        .map(|(k, _)| k.value())
        .unwrap_or(0))
}

/// Order changes after `after` (exclusive), oldest first: (sequence, order).
pub fn changes_after(
    tx: &impl Tx,
    after: u64,
    limit: usize,
) -> Result<Vec<(u64, OrderId)>, StoreError> {
    let t = tx.open(ORDER_CHANGES)?;
    let mut out = Vec::new();
    for row in t.range(after.saturating_add(1)..)? {
        let (k, v) = row?;
        out.push((k.value(), OrderId(v.value())));
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// All index keys and all counters.
pub type Index = (BTreeSet<Vec<u8>>, BTreeMap<Vec<u8>, u64>);

/// Every key, counter and row rebuilt from the orders: what `put` should have left. For the
/// migration and for checking (a test compares it with what the write path keeps).
pub fn derived(tx: &impl Tx) -> Result<Index, StoreError> {
    let mut keys = BTreeSet::new();
    let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for row in tx.open(ORDERS)?.iter()? {
        let (_, v) = row?;
        let o: Order = decode(v.value())?;
        for Entry { key, counters } in entries(&o) {
            keys.insert(key);
            for c in counters {
                *counts.entry(c).or_default() += 1;
            }
        }
    }
    Ok((keys, counts))
}

/// Migration: the per-day counters keyed day first (`order_index::day_counter`), made anew
/// from the orders; the other keys and counters are left as they are.
pub fn rekey_day_counters(tx: &WriteTx) -> Result<(), StoreError> {
    use crate::domain::order_index::DAY_BIT;
    let mut counts = tx.open_table(ORDER_COUNTS)?;
    counts.retain_in(&[DAY_BIT][..].., |_, _| false)?;
    let orders = tx.open_table(ORDERS)?;
    let mut sums: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    for row in orders.iter()? {
        let o: Order = decode(row?.1.value())?;
        for Entry { counters, .. } in entries(&o) {
            for c in counters.into_iter().filter(|c| c[0] & DAY_BIT != 0) {
                *sums.entry(c).or_default() += 1;
            }
        }
        if sums.len() > 200_000 {
            add_to_sums(&mut counts, std::mem::take(&mut sums))?;
        }
    }
    add_to_sums(&mut counts, sums)
}

/// Migration (whenever the kinds of key change): every key and counter made anew from the
/// orders.
pub fn rebuild_index(tx: &WriteTx) -> Result<(), StoreError> {
    rebuild_derived(tx)
}

/// Every key, counter and list row made anew from the orders (after a restore from a backup,
/// which leaves them out); counters are added up in bounded batches.
pub fn rebuild_derived(tx: &WriteTx) -> Result<(), StoreError> {
    super::pending::clear(tx)?;
    tx.delete_table(ORDER_KEYS)?;
    tx.delete_table(ORDER_COUNTS)?;
    tx.delete_table(ORDER_ROWS)?;
    let orders = tx.open_table(ORDERS)?;
    let mut keys = tx.open_table(ORDER_KEYS)?;
    let mut rows = tx.open_table(ORDER_ROWS)?;
    let mut counts = tx.open_table(ORDER_COUNTS)?;
    let mut sums: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    for row in orders.iter()? {
        let (id, v) = row?;
        let o: Order = decode(v.value())?;
        rows.insert(id.value(), encode(&Row::of(&o))?.as_slice())?;
        for Entry { key, counters } in entries(&o) {
            keys.insert(key.as_slice(), ())?;
            for c in counters {
                *sums.entry(c).or_default() += 1;
            }
        }
        if sums.len() > 200_000 {
            add_to_sums(&mut counts, std::mem::take(&mut sums))?;
        }
    }
    add_to_sums(&mut counts, sums)
}

/// Migration: the keys (and counters) of one new kind added for every order, the others
/// left as they are.
fn add_kind(tx: &WriteTx, kind: crate::domain::order_index::Kind) -> Result<(), StoreError> {
    let ids: Vec<u64> = {
        let t = tx.open_table(ORDERS)?;
        let mut v = Vec::new();
        for row in t.iter()? {
            v.push(row?.0.value());
        }
        v
    };
    let mut keys = tx.open_table(ORDER_KEYS)?;
    let mut moves: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for id in ids {
        let Some(o) = get(tx, OrderId(id))? else {
            continue;
        };
        for e in entries(&o) {
            if e.key.first() == Some(&(kind as u8)) && keys.insert(e.key.as_slice(), ())?.is_none()
            {
                for c in e.counters {
                    *moves.entry(c).or_default() += 1;
                }
            }
        }
    }
    let mut counts = tx.open_table(ORDER_COUNTS)?;
    for (c, d) in moves {
        let n = counts.get(c.as_slice())?.map(|v| v.value()).unwrap_or(0);
        counts.insert(c.as_slice(), n.saturating_add(d))?;
    }
    Ok(())
}

/// Migration: lists by two filters at once.
pub fn add_pair_keys(tx: &WriteTx) -> Result<(), StoreError> {
    add_kind(tx, crate::domain::order_index::Kind::Pair)
}

/// Migration: index every order by the new keys, counters and rows, carry over which
/// deadlines were urged already, and drop the old index tables.
pub fn migrate_to_keys(tx: &WriteTx) -> Result<(), StoreError> {
    let not_urged: BTreeSet<(i64, u64)> = {
        let t = tx.open_table(retired::ORDER_DUE)?;
        let mut s = BTreeSet::new();
        for row in t.iter()? {
            s.insert(row?.0.value());
        }
        s
    };
    let ids: Vec<u64> = {
        let t = tx.open_table(ORDERS)?;
        let mut v = Vec::new();
        for row in t.iter()? {
            v.push(row?.0.value());
        }
        v
    };
    tx.open_table(ORDER_KEYS)?;
    tx.open_table(ORDER_COUNTS)?;
    tx.open_table(ORDER_ROWS)?;
    for id in ids {
        let Some(mut o) = get(tx, OrderId(id))? else {
            continue;
        };
        if let Some(d) = crate::domain::order_index::running(&o)
            && !not_urged.contains(&(d.due.0, id))
        {
            o.flags.auto_urged_due = Some(d.due);
        }
        tx.open_table(ORDERS)?.insert(id, encode(&o)?.as_slice())?;
        tx.open_table(ORDER_ROWS)?
            .insert(id, encode(&Row::of(&o))?.as_slice())?;
        reindex(tx, None, &o)?;
    }
    tx.delete_table(retired::ORDER_BY_PHONE)?;
    tx.delete_table(retired::ORDER_BY_STATE)?;
    tx.delete_table(retired::ORDER_BY_UNIT)?;
    tx.delete_table(retired::ORDER_DUE)?;
    Ok(())
}

/// Migration, in batches: order records written before the orders' dictionary are stored
/// again against it (about a quarter of their size), so backups shrink at once. `next` is the
/// first order id of the batch; says whether the last order was reached.
pub fn recompress(tx: &WriteTx, next: &mut u64) -> Result<bool, StoreError> {
    recompress_batch(tx, next, 10_000)
}

/// One batch of `recompress`: looks at up to `batch` orders from id `next` on.
pub fn recompress_batch(tx: &WriteTx, next: &mut u64, batch: usize) -> Result<bool, StoreError> {
    let mut t = tx.open_table(ORDERS)?;
    let mut stale: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut seen = 0usize;
    for row in t.range(*next..)? {
        let (k, v) = row?;
        *next = k.value().saturating_add(1);
        seen += 1;
        if !super::codec::current::<Order>(v.value()) {
            stale.push((k.value(), encode(&decode::<Order>(v.value())?)?));
        }
        if seen >= batch {
            break;
        }
    }
    for (id, bytes) in &stale {
        t.insert(*id, bytes.as_slice())?;
    }
    Ok(seen < batch)
}

/// Migration: every timeline entry stored as prose becomes an action code with typed
/// parameters (`domain::timeline::upgrade`), in batches of 10,000 orders. Nothing derived
/// changes: keys, counters, facts and the search index never read the timeline's words.
pub fn upgrade_timelines(tx: &WriteTx, next: &mut u64) -> Result<bool, StoreError> {
    upgrade_timelines_batch(tx, next, 10_000)
}

/// One batch of `upgrade_timelines`: looks at up to `batch` orders from id `next` on.
pub fn upgrade_timelines_batch(
    tx: &WriteTx,
    next: &mut u64,
    batch: usize,
) -> Result<bool, StoreError> {
    let mut t = tx.open_table(ORDERS)?;
    let mut stale: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut seen = 0usize;
    for row in t.range(*next..)? {
        let (k, v) = row?;
        *next = k.value().saturating_add(1);
        seen += 1;
        let mut o: Order = decode(v.value())?;
        if crate::domain::timeline::upgrade(&mut o) {
            stale.push((k.value(), encode(&o)?));
        }
        if seen >= batch {
            break;
        }
    }
    for (id, bytes) in &stale {
        t.insert(*id, bytes.as_slice())?;
    }
    Ok(seen < batch)
}

/// Migration: the keys of every unit event (the orders behind each assessment figure), in
/// batches of 10,000 orders.
pub fn add_unit_events(tx: &WriteTx, next: &mut u64) -> Result<bool, StoreError> {
    add_keys_of(tx, next, crate::domain::order_index::Kind::UnitEvent)
}

/// Migration: the keys of the callers' numbers by their last four digits, in batches of
/// 10,000 orders.
pub fn add_phone_tails(tx: &WriteTx, next: &mut u64) -> Result<bool, StoreError> {
    add_keys_of(tx, next, crate::domain::order_index::Kind::ByPhoneTail)
}

/// Migration: the keys of the orders' 查询码, in batches of 10,000 orders.
pub fn add_query_codes(tx: &WriteTx, next: &mut u64) -> Result<bool, StoreError> {
    add_keys_of(tx, next, crate::domain::order_index::Kind::ByQueryCode)
}

/// The keys of one new kind without counters for every order, in batches of 10,000 orders.
/// The kind is new, so none is pending or stored before; keys are a set, so a migration
/// that starts over puts the same ones again.
fn add_keys_of(
    tx: &WriteTx,
    next: &mut u64,
    kind: crate::domain::order_index::Kind,
) -> Result<bool, StoreError> {
    let kind = kind as u8;
    let orders = tx.open_table(ORDERS)?;
    let mut keys = tx.open_table(ORDER_KEYS)?;
    let mut seen = 0usize;
    for row in orders.range(*next..)? {
        let (k, v) = row?;
        *next = k.value().saturating_add(1);
        seen += 1;
        let o: Order = decode(v.value())?;
        for e in entries(&o)
            .into_iter()
            .filter(|e| e.key.first() == Some(&kind))
        {
            keys.insert(e.key.as_slice(), ())?;
        }
        if seen >= 10_000 {
            break;
        }
    }
    Ok(seen < 10_000)
}
