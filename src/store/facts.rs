//! Per-day facts for the reports (see `domain::order_facts`): moved by `orders::put` in the
//! write transaction, read by dimension and date range.

use std::collections::BTreeMap;

use redb::ReadableTable;

use super::codec::decode;
use super::orders::add_to_sums;
use super::tables::{ORDER_FACTS, ORDERS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::order::Order;
use crate::domain::order_facts::{Dim, Fact, Value, diff, facts, range};

/// Moves the stored sums from what `old` had to what `new` has.
pub fn apply(tx: &WriteTx, old: Option<&Order>, new: &Order) -> Result<(), StoreError> {
    let moves = diff(old, new);
    if moves.is_empty() {
        return Ok(());
    }
    super::sums::add(tx, super::sums::Sums::Facts, moves)
}

/// Hands every fact of one dimension from day `from` to day `to` (both included, days since
/// the epoch in Beijing time) with its sum to `add`, in key order: one range read of about
/// days × values × measures rows, none of them held (a year of words or units is a few
/// hundred thousand rows: summed as they pass, never gathered).
pub fn fold(
    tx: &impl Tx,
    dim: Dim,
    from: u32,
    to: u32,
    mut add: impl FnMut(Fact, u64),
) -> Result<(), StoreError> {
    let t = tx.open(ORDER_FACTS)?;
    let (lo, hi) = range(dim, from, to);
    for row in t.range(lo.as_slice()..hi.as_slice())? {
        let (k, v) = row?;
        if let Some(f) = Fact::decode(k.value()) {
            add(f, v.value());
        }
    }
    Ok(())
}

/// The facts of one value of a dimension (one unit, one town) from day `from` to `to`, both
/// included: one short range a day.
pub fn read_value(
    tx: &impl Tx,
    dim: Dim,
    value: &Value,
    from: u32,
    to: u32,
) -> Result<Vec<(Fact, u64)>, StoreError> {
    let t = tx.open(ORDER_FACTS)?;
    let mut out = Vec::new();
    for day in from..=to {
        let head = Fact {
            dim,
            day,
            value: value.clone(),
            measure: crate::domain::order_facts::Measure::Answered,
            sub: 0,
        }
        .key();
        // The key without its measure and sub-code: every measure of the value that day.
        let lo = head[..head.len() - 2].to_vec();
        let mut hi = lo.clone();
        hi.push(0xFF);
        for row in t.range(lo.as_slice()..hi.as_slice())? {
            let (k, v) = row?;
            if let Some(f) = Fact::decode(k.value()) {
                out.push((f, v.value()));
            }
        }
    }
    Ok(out)
}

/// Every fact rebuilt from the orders: what the write path should have left.
pub fn derived(tx: &impl Tx) -> Result<BTreeMap<Vec<u8>, u64>, StoreError> {
    let mut out: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for row in tx.open(ORDERS)?.iter()? {
        let o: Order = decode(row?.1.value())?;
        for (k, n) in facts(&o) {
            let e = out.entry(k).or_default();
            *e = e.saturating_add_signed(n);
        }
    }
    out.retain(|_, n| *n != 0);
    Ok(out)
}

/// The facts the write path keeps now.
pub fn stored(tx: &impl Tx) -> Result<BTreeMap<Vec<u8>, u64>, StoreError> {
    let mut out = BTreeMap::new();
    for row in tx.open(ORDER_FACTS)?.iter()? {
        let (k, v) = row?;
        out.insert(k.value().to_vec(), v.value());
    }
    Ok(out)
}

/// Migration (and restore): every fact made anew from the orders, added up in bounded
/// batches.
pub fn rebuild(tx: &WriteTx) -> Result<(), StoreError> {
    tx.delete_table(ORDER_FACTS)?;
    let orders = tx.open_table(ORDERS)?;
    let mut t = tx.open_table(ORDER_FACTS)?;
    let mut sums: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    for row in orders.iter()? {
        let o: Order = decode(row?.1.value())?;
        for (k, n) in facts(&o) {
            *sums.entry(k).or_default() += n;
        }
        if sums.len() > 100_000 {
            add_to_sums(&mut t, std::mem::take(&mut sums))?;
        }
    }
    add_to_sums(&mut t, sums)
}

/// Migration 21: the facts it added (`order_facts::new_in_schema_21`: the words of every
/// title, the operators' after-call work), in batches of 10,000 orders. The first batch
/// clears those facts, so a migration that starts over after a crash does not count twice.
pub fn add_schema_21_facts(tx: &WriteTx, next: &mut u64) -> Result<bool, StoreError> {
    use crate::domain::order_facts::new_in_schema_21;
    let mut t = tx.open_table(ORDER_FACTS)?;
    if *next == 0 {
        t.retain(|k, _| !new_in_schema_21(k))?;
    }
    let orders = tx.open_table(ORDERS)?;
    let mut sums: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    let mut seen = 0usize;
    for row in orders.range(*next..)? {
        let (k, v) = row?;
        *next = k.value().saturating_add(1);
        seen += 1;
        let o: Order = decode(v.value())?;
        for (k, n) in facts(&o) {
            if new_in_schema_21(&k) {
                *sums.entry(k).or_default() += n;
            }
        }
        if seen >= 10_000 {
            break;
        }
    }
    add_to_sums(&mut t, sums)?;
    Ok(seen < 10_000)
}
