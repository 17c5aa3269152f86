//! Small named records in the `meta` table: schema version, setup code, settings.

use redb::ReadableTable;

use super::codec::{Record, decode, encode};
use super::tables::META;
use super::{ReadTx, StoreError, Tx, WriteTx};

const SCHEMA_VERSION: &str = "schema_version";

pub fn schema_version(tx: &ReadTx) -> Result<u64, StoreError> {
    let table = match tx.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    Ok(table
        .get(SCHEMA_VERSION)?
        .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0))
}

pub fn set_schema_version(tx: &WriteTx, version: u64) -> Result<(), StoreError> {
    tx.open_table(META)?
        .insert(SCHEMA_VERSION, version.to_le_bytes().as_slice())?;
    Ok(())
}

pub fn get<T: Record>(tx: &impl Tx, key: &str) -> Result<Option<T>, StoreError> {
    let table = tx.open(META)?;
    let value = table.get(key)?;
    value.map(|v| decode(v.value())).transpose()
}

pub fn put<T: Record>(tx: &WriteTx, key: &str, value: &T) -> Result<(), StoreError> {
    tx.open_table(META)?
        .insert(key, encode(value)?.as_slice())?;
    Ok(())
}

pub fn delete(tx: &WriteTx, key: &str) -> Result<(), StoreError> {
    tx.open_table(META)?.remove(key)?;
    Ok(())
}
