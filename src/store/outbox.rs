//! The outbox of results for platforms: delivery records and their keys — due by time (the
//! worker's queue), by state (the admin's lists), and the open ones of each order (so an
//! order's results go in the order they happened).

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{OUTBOX, OUTBOX_KEYS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::order::OrderId;
use crate::domain::order_index::Key;
use crate::domain::outbox::{Delivery, DeliveryState};
use crate::domain::time::Timestamp;

const DUE: u8 = 1;
const STATE: u8 = 2;
const OPEN: u8 = 3;

fn keys_of(d: &Delivery) -> Vec<Vec<u8>> {
    let mut k = vec![Key::new_raw(STATE).u8(d.state as u8).u64(d.id).bytes()];
    if d.state != DeliveryState::Delivered {
        k.push(Key::new_raw(DUE).time(d.next_at).u64(d.id).bytes());
        k.push(Key::new_raw(OPEN).u64(d.order.0).u64(d.id).bytes());
    }
    k
}

pub fn next_id(tx: &WriteTx) -> Result<u64, StoreError> {
    let t = tx.open_table(OUTBOX)?;
    Ok(t.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1)
}

/// Writes a delivery and moves its keys.
pub fn put(tx: &WriteTx, old: Option<&Delivery>, d: &Delivery) -> Result<(), StoreError> {
    let mut keys = tx.open_table(OUTBOX_KEYS)?;
    if let Some(o) = old {
        for k in keys_of(o) {
            keys.remove(k.as_slice())?;
        }
    }
    for k in keys_of(d) {
        keys.insert(k.as_slice(), ())?;
    }
    tx.open_table(OUTBOX)?.insert(d.id, encode(d)?.as_slice())?;
    Ok(())
}

pub fn get(tx: &impl Tx, id: u64) -> Result<Option<Delivery>, StoreError> {
    match tx.open(OUTBOX)?.get(id)? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
}

fn id_at_end(k: &[u8]) -> Option<u64> {
    let tail: [u8; 8] = k.get(k.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}

/// Deliveries due by `now` (pending or failed), earliest first, at most `limit`.
pub fn due(tx: &impl Tx, now: Timestamp, limit: usize) -> Result<Vec<u64>, StoreError> {
    let lo = Key::new_raw(DUE).bytes();
    let hi = Key::new_raw(DUE).time(now).u64(u64::MAX).bytes();
    let t = tx.open(OUTBOX_KEYS)?;
    let mut out = Vec::new();
    for row in t.range(lo.as_slice()..=hi.as_slice())?.take(limit) {
        out.extend(id_at_end(row?.0.value()));
    }
    Ok(out)
}

/// When the next delivery falls due, if any is waiting.
pub fn next_due(tx: &impl Tx) -> Result<Option<Timestamp>, StoreError> {
    let lo = Key::new_raw(DUE).bytes();
    let hi = Key::new_raw(DUE + 1).bytes();
    let t = tx.open(OUTBOX_KEYS)?;
    let Some(row) = t.range(lo.as_slice()..hi.as_slice())?.next() else {
        return Ok(None);
    };
    Ok(crate::domain::order_index::time_of(row?.0.value()))
}

/// The order's earliest undelivered delivery.
pub fn first_open(tx: &impl Tx, order: OrderId) -> Result<Option<u64>, StoreError> {
    let lo = Key::new_raw(OPEN).u64(order.0).bytes();
    let hi = Key::new_raw(OPEN).u64(order.0.saturating_add(1)).bytes();
    let t = tx.open(OUTBOX_KEYS)?;
    let Some(row) = t.range(lo.as_slice()..hi.as_slice())?.next() else {
        return Ok(None);
    };
    Ok(id_at_end(row?.0.value()))
}

/// Deliveries in `state`, newest first: one page, and how many there are (counted up to
/// `count_cap`).
pub fn in_state(
    tx: &impl Tx,
    state: DeliveryState,
    limit: usize,
    count_cap: usize,
) -> Result<(Vec<u64>, usize), StoreError> {
    let lo = Key::new_raw(STATE).u8(state as u8).bytes();
    let hi = Key::new_raw(STATE).u8(state as u8 + 1).bytes();
    let t = tx.open(OUTBOX_KEYS)?;
    let mut ids = Vec::new();
    let mut n = 0;
    for row in t.range(lo.as_slice()..hi.as_slice())?.rev().take(count_cap) {
        let row = row?;
        if ids.len() < limit {
            ids.extend(id_at_end(row.0.value()));
        }
        n += 1;
    }
    Ok((ids, n))
}
