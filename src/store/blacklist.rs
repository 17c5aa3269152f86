//! Harassment incidents and blacklist entries.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{BLACKLIST, HARASSMENT};
use super::{StoreError, Tx, WriteTx};
use crate::domain::blacklist::BlacklistEntry;
use crate::domain::order::OrderId;
use crate::domain::time::Timestamp;

pub fn add_incident(
    tx: &WriteTx,
    phone: &str,
    at: Timestamp,
    order: OrderId,
) -> Result<(), StoreError> {
    tx.open_table(HARASSMENT)?
        .insert((phone, at.0, order.0), ())?;
    Ok(())
}

/// Incidents of a number since `since`, oldest first.
pub fn incidents(
    tx: &impl Tx,
    phone: &str,
    since: Timestamp,
) -> Result<Vec<(Timestamp, OrderId)>, StoreError> {
    let t = tx.open(HARASSMENT)?;
    let mut out = Vec::new();
    for row in t.range((phone, since.0, 0)..=(phone, i64::MAX, u64::MAX))? {
        let (_, at, id) = row?.0.value();
        out.push((Timestamp(at), OrderId(id)));
    }
    Ok(out)
}

pub fn get(tx: &impl Tx, phone: &str) -> Result<Option<BlacklistEntry>, StoreError> {
    let t = tx.open(BLACKLIST)?;
    let v = t.get(phone)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn put(tx: &WriteTx, e: &BlacklistEntry) -> Result<(), StoreError> {
    tx.open_table(BLACKLIST)?
        .insert(e.phone.as_str(), encode(e)?.as_slice())?;
    Ok(())
}

pub fn list(tx: &impl Tx) -> Result<Vec<BlacklistEntry>, StoreError> {
    let t = tx.open(BLACKLIST)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        out.push(decode(row?.1.value())?);
    }
    Ok(out)
}
