//! Users and the username index.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{USERNAMES, USERS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::user::{User, UserId};

pub fn get(tx: &impl Tx, id: UserId) -> Result<Option<User>, StoreError> {
    let table = tx.open(USERS)?;
    let v = table.get(id.0)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn id_by_username(tx: &impl Tx, username: &str) -> Result<Option<UserId>, StoreError> {
    let table = tx.open(USERNAMES)?;
    let v = table.get(username)?;
    Ok(v.map(|v| UserId(v.value())))
}

pub fn by_username(tx: &impl Tx, username: &str) -> Result<Option<User>, StoreError> {
    match id_by_username(tx, username)? {
        Some(id) => get(tx, id),
        None => Ok(None),
    }
}

pub fn count(tx: &impl Tx) -> Result<u64, StoreError> {
    use redb::ReadableTableMetadata;
    Ok(tx.open(USERS)?.len()?)
}

pub fn list(tx: &impl Tx) -> Result<Vec<User>, StoreError> {
    let table = tx.open(USERS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

pub fn next_id(tx: &WriteTx) -> Result<UserId, StoreError> {
    let table = tx.open_table(USERS)?;
    let last = table.last()?.map(|(k, _)| k.value()).unwrap_or(0);
    Ok(UserId(last + 1))
}

/// Inserts or replaces a user; the username index follows (usernames never change).
pub fn put(tx: &WriteTx, user: &User) -> Result<(), StoreError> {
    tx.open_table(USERS)?
        .insert(user.id.0, encode(user)?.as_slice())?;
    tx.open_table(USERNAMES)?
        .insert(user.username.as_str(), user.id.0)?;
    Ok(())
}
