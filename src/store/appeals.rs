//! Unit appeals (考核申诉) and their keys. Key layout (one table, first byte the kind):
//! `1 state filed_at id` (by state), `2 unit filed_at id` (a unit's), `3 order id` (an
//! order's), `4 order figure round` (one appeal per contested result), `5 figure day unit
//! order` (upheld: what the assessment takes out, by the day the figure counted it).

use redb::ReadableTable;

use super::codec::{Record, decode, encode};
use super::tables::{APPEAL_KEYS, APPEALS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::appeal::{Appeal, AppealState, Figure};
use crate::domain::order::OrderId;
use crate::domain::order_index::{Key, cst_day};
use crate::domain::unit::UnitId;

impl Record for Appeal {
    const KIND: &'static str = "appeal";
    const VERSION: u8 = 1;
}

fn state_key(a: &Appeal) -> Vec<u8> {
    Key::new_raw(1)
        .u8(state_tag(a.state))
        .time(a.filed_at)
        .u64(a.id)
        .bytes()
}

fn state_tag(s: AppealState) -> u8 {
    match s {
        AppealState::Pending => 1,
        AppealState::Upheld => 2,
        AppealState::Rejected => 3,
    }
}

fn figure_tag(f: Figure) -> u8 {
    match f {
        Figure::Overdue => 1,
        Figure::Unsatisfied => 2,
    }
}

/// The key that makes one appeal per contested result.
pub fn result_key(order: OrderId, figure: Figure, round: u32) -> Vec<u8> {
    Key::new_raw(4)
        .u64(order.0)
        .u8(figure_tag(figure))
        .u64(u64::from(round))
        .bytes()
}

fn upheld_key(a: &Appeal) -> Vec<u8> {
    Key::new_raw(5)
        .u8(figure_tag(a.figure))
        .u64(u64::from(cst_day(a.event_at)))
        .u64(a.unit.0)
        .u64(a.order.0)
        .bytes()
}

fn keys(a: &Appeal) -> Vec<Vec<u8>> {
    let mut k = vec![
        state_key(a),
        Key::new_raw(2)
            .u64(a.unit.0)
            .time(a.filed_at)
            .u64(a.id)
            .bytes(),
        Key::new_raw(3).u64(a.order.0).u64(a.id).bytes(),
        result_key(a.order, a.figure, a.round),
    ];
    if a.state == AppealState::Upheld {
        k.push(upheld_key(a));
    }
    k
}

pub fn next_id(tx: &WriteTx) -> Result<u64, StoreError> {
    let t = tx.open_table(APPEALS)?;
    Ok(t.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1)
}

pub fn get(tx: &impl Tx, id: u64) -> Result<Option<Appeal>, StoreError> {
    let t = tx.open(APPEALS)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn exists(tx: &impl Tx, key: &[u8]) -> Result<bool, StoreError> {
    Ok(tx.open(APPEAL_KEYS)?.get(key)?.is_some())
}

/// Writes the appeal and moves its keys from what `old` had.
pub fn put(tx: &WriteTx, old: Option<&Appeal>, a: &Appeal) -> Result<(), StoreError> {
    let mut kt = tx.open_table(APPEAL_KEYS)?;
    for k in old.map(keys).unwrap_or_default() {
        kt.remove(k.as_slice())?;
    }
    for k in keys(a) {
        kt.insert(k.as_slice(), ())?;
    }
    tx.open_table(APPEALS)?
        .insert(a.id, encode(a)?.as_slice())?;
    Ok(())
}

/// The appeals under a key prefix, newest first: at most `limit`, and how many there are
/// in all (appeals are few: tens a month).
fn under(tx: &impl Tx, prefix: Vec<u8>, limit: usize) -> Result<(Vec<Appeal>, usize), StoreError> {
    let kt = tx.open(APPEAL_KEYS)?;
    let mut end = prefix.clone();
    end.push(0xFF);
    let mut out = Vec::new();
    let mut total = 0;
    for row in kt.range(prefix.as_slice()..end.as_slice())?.rev() {
        let k = row?.0.value().to_vec();
        total += 1;
        if out.len() < limit
            && let Some(id) = k
                .get(k.len().saturating_sub(8)..)
                .and_then(|b| b.try_into().ok())
            && let Some(a) = get(tx, u64::from_be_bytes(id))?
        {
            out.push(a);
        }
    }
    Ok((out, total))
}

pub fn by_state(
    tx: &impl Tx,
    state: AppealState,
    limit: usize,
) -> Result<(Vec<Appeal>, usize), StoreError> {
    under(tx, Key::new_raw(1).u8(state_tag(state)).bytes(), limit)
}

pub fn by_unit(
    tx: &impl Tx,
    unit: UnitId,
    limit: usize,
) -> Result<(Vec<Appeal>, usize), StoreError> {
    under(tx, Key::new_raw(2).u64(unit.0).bytes(), limit)
}

pub fn by_order(tx: &impl Tx, order: OrderId) -> Result<Vec<Appeal>, StoreError> {
    Ok(under(tx, Key::new_raw(3).u64(order.0).bytes(), 100)?.0)
}

/// The upheld appeals of `figure` whose counted event fell on days `from..to` (Beijing
/// days, `to` excluded), as (unit, order).
pub fn upheld(
    tx: &impl Tx,
    figure: Figure,
    from: u32,
    to: u32,
) -> Result<Vec<(UnitId, OrderId)>, StoreError> {
    let kt = tx.open(APPEAL_KEYS)?;
    let head = |day: u32| {
        Key::new_raw(5)
            .u8(figure_tag(figure))
            .u64(u64::from(day))
            .bytes()
    };
    let (lo, hi) = (head(from), head(to));
    let mut out = Vec::new();
    for row in kt.range(lo.as_slice()..hi.as_slice())? {
        let k = row?.0.value().to_vec();
        let n = k.len();
        let num = |at: usize| -> Option<u64> {
            Some(u64::from_be_bytes(k.get(at..at + 8)?.try_into().ok()?))
        };
        if let (Some(u), Some(o)) = (num(n - 16), num(n - 8)) {
            out.push((UnitId(u), OrderId(o)));
        }
    }
    Ok(out)
}
