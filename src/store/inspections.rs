//! QA inspections (质检) and their keys: `1 order id` (an order's), `2 operator at id` (an
//! operator's by time), `3 at id` (all by time), `4 at id` (appeals awaiting the shift lead).

use redb::ReadableTable;

use super::codec::{Record, decode, encode};
use super::tables::{INSPECTION_KEYS, INSPECTIONS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::order::OrderId;
use crate::domain::order_index::Key;
use crate::domain::qa::Inspection;
use crate::domain::time::Timestamp;
use crate::domain::user::UserId;

impl Record for Inspection {
    const KIND: &'static str = "inspection";
    const VERSION: u8 = 1;
}

fn keys(i: &Inspection) -> Vec<Vec<u8>> {
    let mut k = vec![
        Key::new_raw(1).u64(i.order.0).u64(i.id).bytes(),
        Key::new_raw(2)
            .u64(i.operator.0)
            .time(i.at)
            .u64(i.id)
            .bytes(),
        Key::new_raw(3).time(i.at).u64(i.id).bytes(),
    ];
    if let Some(a) = &i.appeal
        && a.outcome.is_none()
    {
        k.push(Key::new_raw(4).time(a.at).u64(i.id).bytes());
    }
    k
}

pub fn next_id(tx: &WriteTx) -> Result<u64, StoreError> {
    let t = tx.open_table(INSPECTIONS)?;
    Ok(t.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1)
}

pub fn get(tx: &impl Tx, id: u64) -> Result<Option<Inspection>, StoreError> {
    let t = tx.open(INSPECTIONS)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn put(tx: &WriteTx, old: Option<&Inspection>, i: &Inspection) -> Result<(), StoreError> {
    let mut kt = tx.open_table(INSPECTION_KEYS)?;
    for k in old.map(keys).unwrap_or_default() {
        kt.remove(k.as_slice())?;
    }
    for k in keys(i) {
        kt.insert(k.as_slice(), ())?;
    }
    tx.open_table(INSPECTIONS)?
        .insert(i.id, encode(i)?.as_slice())?;
    Ok(())
}

/// The inspections whose key lies in `[lo, hi)`, newest first, at most `limit`.
fn between(
    tx: &impl Tx,
    lo: &[u8],
    hi: &[u8],
    limit: usize,
) -> Result<Vec<Inspection>, StoreError> {
    let kt = tx.open(INSPECTION_KEYS)?;
    let mut out = Vec::new();
    for row in kt.range(lo..hi)?.rev().take(limit) {
        let k = row?.0.value().to_vec();
        let id = k
            .get(k.len().saturating_sub(8)..)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes);
        if let Some(i) = id.map(|id| get(tx, id)).transpose()?.flatten() {
            out.push(i);
        }
    }
    Ok(out)
}

fn prefix_end(p: &[u8]) -> Vec<u8> {
    let mut e = p.to_vec();
    e.push(0xFF);
    e
}

pub fn of_order(tx: &impl Tx, order: OrderId) -> Result<Vec<Inspection>, StoreError> {
    let p = Key::new_raw(1).u64(order.0).bytes();
    between(tx, &p, &prefix_end(&p), 20)
}

/// One operator's inspections from `from` to `to` (or all of them's in that time).
pub fn in_time(
    tx: &impl Tx,
    operator: Option<UserId>,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<Inspection>, StoreError> {
    let head = match operator {
        Some(u) => Key::new_raw(2).u64(u.0),
        None => Key::new_raw(3),
    };
    let lo = head.clone().time(from).bytes();
    let hi = head.time(to).bytes();
    between(tx, &lo, &hi, limit)
}

/// Appeals awaiting the shift lead, newest first.
pub fn appealed(tx: &impl Tx, limit: usize) -> Result<Vec<Inspection>, StoreError> {
    let p = Key::new_raw(4).bytes();
    between(tx, &p, &prefix_end(&p), limit)
}
