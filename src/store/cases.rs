//! Typical cases (典型案例): orders the supervisor chose for the bulletin, by the day chosen.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::codec::{Record, decode, encode};
use super::tables::TYPICAL_CASES;
use super::{StoreError, Tx, WriteTx};
use crate::domain::order::OrderId;
use crate::domain::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypicalCase {
    pub order: OrderId,
    pub number: String,
    pub title: String,
    pub note: String,
    pub by_name: String,
    pub at: Timestamp,
}

impl Record for TypicalCase {
    const KIND: &'static str = "typical_case";
    const VERSION: u8 = 1;
}

pub fn put(tx: &WriteTx, day: u32, c: &TypicalCase) -> Result<(), StoreError> {
    tx.open_table(TYPICAL_CASES)?
        .insert((day, c.order.0), encode(c)?.as_slice())?;
    Ok(())
}

pub fn remove(tx: &WriteTx, day: u32, order: OrderId) -> Result<bool, StoreError> {
    Ok(tx
        .open_table(TYPICAL_CASES)?
        .remove((day, order.0))?
        .is_some())
}

/// The cases chosen on days `from..to` (to excluded), oldest first, at most `limit`.
pub fn between(
    tx: &impl Tx,
    from: u32,
    to: u32,
    limit: usize,
) -> Result<Vec<(u32, TypicalCase)>, StoreError> {
    let t = tx.open(TYPICAL_CASES)?;
    let mut out = Vec::new();
    for row in t.range((from, 0)..(to, 0))?.take(limit) {
        let (k, v) = row?;
        out.push((k.value().0, decode(v.value())?));
    }
    Ok(out)
}
