//! The call log: each call the phone system reported, by its call id.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::CALLS;
use super::{StoreError, Tx, WriteTx};
use crate::domain::call::CallRecord;

pub fn get(tx: &impl Tx, call_id: &str) -> Result<Option<CallRecord>, StoreError> {
    match tx.open(CALLS)?.get(call_id)? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
}

pub fn put(tx: &WriteTx, c: &CallRecord) -> Result<(), StoreError> {
    tx.open_table(CALLS)?
        .insert(c.call_id.as_str(), encode(c)?.as_slice())?;
    Ok(())
}
