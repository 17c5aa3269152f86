//! Units and the unit-code index.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{UNIT_CODES, UNITS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::unit::{Unit, UnitId};

pub fn get(tx: &impl Tx, id: UnitId) -> Result<Option<Unit>, StoreError> {
    let table = tx.open(UNITS)?;
    let v = table.get(id.0)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn id_by_code(tx: &impl Tx, code: &str) -> Result<Option<UnitId>, StoreError> {
    let table = tx.open(UNIT_CODES)?;
    let v = table.get(code)?;
    Ok(v.map(|v| UnitId(v.value())))
}

pub fn list(tx: &impl Tx) -> Result<Vec<Unit>, StoreError> {
    let table = tx.open(UNITS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

pub fn next_id(tx: &WriteTx) -> Result<UnitId, StoreError> {
    let table = tx.open_table(UNITS)?;
    let last = table.last()?.map(|(k, _)| k.value()).unwrap_or(0);
    Ok(UnitId(last + 1))
}

/// Inserts or replaces a unit; codes never change once created.
pub fn put(tx: &WriteTx, unit: &Unit) -> Result<(), StoreError> {
    tx.open_table(UNITS)?
        .insert(unit.id.0, encode(unit)?.as_slice())?;
    tx.open_table(UNIT_CODES)?
        .insert(unit.code.as_str(), unit.id.0)?;
    Ok(())
}
