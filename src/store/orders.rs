//! Orders and their indexes, kept in step in the same transaction.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{
    ORDER_BY_PHONE, ORDER_BY_STATE, ORDER_BY_UNIT, ORDER_CHANGES, ORDER_DUE, ORDER_EXTERNAL,
    ORDER_NUMBERS, ORDER_SERIALS, ORDER_VIEWS, ORDERS,
};
use super::{StoreError, Tx, WriteTx};
use crate::domain::order::{Order, OrderId};
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;

pub fn get(tx: &impl Tx, id: OrderId) -> Result<Option<Order>, StoreError> {
    let t = tx.open(ORDERS)?;
    let v = t.get(id.0)?;
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

fn due_key(o: &Order) -> Option<i64> {
    o.running_deadline().map(|d| d.due.0)
}

/// Writes an order and brings every index in line with it (`old` is what was stored).
pub fn put(tx: &WriteTx, old: Option<&Order>, new: &Order) -> Result<(), StoreError> {
    tx.open_table(ORDERS)?
        .insert(new.id.0, encode(new)?.as_slice())?;
    {
        let mut changes = tx.open_table(ORDER_CHANGES)?;
        let seq = changes.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1;
        changes.insert(seq, new.id.0)?;
    }
    let id = new.id.0;
    if old.is_none() {
        tx.open_table(ORDER_NUMBERS)?
            .insert(new.number.as_str(), id)?;
        if let Some(ext) = &new.external_id {
            let key = external_key(new.channel.code(), ext);
            tx.open_table(ORDER_EXTERNAL)?.insert(key.as_str(), id)?;
        }
        tx.open_table(ORDER_BY_PHONE)?
            .insert((new.caller.phone.as_str(), id), ())?;
    }
    let mut by_state = tx.open_table(ORDER_BY_STATE)?;
    if let Some(o) = old
        && o.state != new.state
    {
        by_state.remove((o.state.code(), id))?;
    }
    by_state.insert((new.state.code(), id), ())?;
    let mut by_unit = tx.open_table(ORDER_BY_UNIT)?;
    for r in &new.rounds {
        for u in std::iter::once(&r.unit).chain(r.co_units.iter()) {
            by_unit.insert((u.0, id), ())?;
        }
    }
    let mut due = tx.open_table(ORDER_DUE)?;
    let old_due = old.and_then(due_key);
    let new_due = due_key(new);
    if old_due != new_due {
        if let Some(d) = old_due {
            due.remove((d, id))?;
        }
        if let Some(d) = new_due {
            due.insert((d, id), ())?;
        }
    }
    Ok(())
}

/// Takes an order off the overdue queue once it has been urged for this deadline.
pub fn clear_due(tx: &WriteTx, due: Timestamp, id: OrderId) -> Result<(), StoreError> {
    tx.open_table(ORDER_DUE)?.remove((due.0, id.0))?;
    Ok(())
}

/// Maps an idempotency key to an order (platform numbers, intake form tokens).
pub fn set_external(tx: &WriteTx, key: &str, id: OrderId) -> Result<(), StoreError> {
    tx.open_table(ORDER_EXTERNAL)?.insert(key, id.0)?;
    Ok(())
}

pub fn external_key(channel: &str, external_id: &str) -> String {
    format!("{channel}:{external_id}")
}

/// Orders whose running deadline passed before `now` and that were not urged yet.
pub fn overdue(
    tx: &impl Tx,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(Timestamp, OrderId)>, StoreError> {
    let t = tx.open(ORDER_DUE)?;
    let mut out = Vec::new();
    for row in t.range((i64::MIN, 0)..(now.0, 0))? {
        let (k, _) = row?;
        let (due, id) = k.value();
        out.push((Timestamp(due), OrderId(id)));
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// Ids in one state, newest first.
pub fn ids_in_state(tx: &impl Tx, state: &str) -> Result<Vec<OrderId>, StoreError> {
    let t = tx.open(ORDER_BY_STATE)?;
    let mut out = Vec::new();
    for row in t.range((state, 0)..=(state, u64::MAX))?.rev() {
        out.push(OrderId(row?.0.value().1));
    }
    Ok(out)
}

pub fn count_in_state(tx: &impl Tx, state: &str) -> Result<usize, StoreError> {
    let t = tx.open(ORDER_BY_STATE)?;
    Ok(t.range((state, 0)..=(state, u64::MAX))?.count())
}

/// Ids of a unit's orders, newest first.
pub fn ids_for_unit(tx: &impl Tx, unit: UnitId) -> Result<Vec<OrderId>, StoreError> {
    let t = tx.open(ORDER_BY_UNIT)?;
    let mut out = Vec::new();
    for row in t.range((unit.0, 0)..=(unit.0, u64::MAX))?.rev() {
        out.push(OrderId(row?.0.value().1));
    }
    Ok(out)
}

/// Ids of a caller's orders, newest first.
pub fn ids_for_phone(tx: &impl Tx, phone: &str) -> Result<Vec<OrderId>, StoreError> {
    let t = tx.open(ORDER_BY_PHONE)?;
    let mut out = Vec::new();
    for row in t.range((phone, 0)..=(phone, u64::MAX))?.rev() {
        out.push(OrderId(row?.0.value().1));
    }
    Ok(out)
}

/// Every id, newest first, from `before` (exclusive) down.
pub fn ids_desc(
    tx: &impl Tx,
    before: Option<OrderId>,
    limit: usize,
) -> Result<Vec<OrderId>, StoreError> {
    let t = tx.open(ORDERS)?;
    let upper = before.map(|b| b.0).unwrap_or(u64::MAX);
    let mut out = Vec::new();
    for row in t.range(..upper)?.rev() {
        out.push(OrderId(row?.0.value()));
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

pub fn count(tx: &impl Tx) -> Result<u64, StoreError> {
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
