//! Knowledge base articles and every version of them.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{KB_ARTICLES, KB_VERSIONS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::knowledge::Article;

pub fn get(tx: &impl Tx, id: u64) -> Result<Option<Article>, StoreError> {
    let t = tx.open(KB_ARTICLES)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn version(tx: &impl Tx, id: u64, version: u32) -> Result<Option<Article>, StoreError> {
    let t = tx.open(KB_VERSIONS)?;
    let v = t.get((id, version))?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn versions(tx: &impl Tx, id: u64) -> Result<Vec<Article>, StoreError> {
    let t = tx.open(KB_VERSIONS)?;
    let mut out = Vec::new();
    for row in t.range((id, 0)..=(id, u32::MAX))? {
        out.push(decode(row?.1.value())?);
    }
    Ok(out)
}

pub fn list(tx: &impl Tx) -> Result<Vec<Article>, StoreError> {
    let t = tx.open(KB_ARTICLES)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        out.push(decode(row?.1.value())?);
    }
    Ok(out)
}

pub fn next_id(tx: &WriteTx) -> Result<u64, StoreError> {
    let t = tx.open_table(KB_ARTICLES)?;
    Ok(t.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1)
}

/// Stores a new version as the current one, keeping every earlier version.
pub fn put(tx: &WriteTx, a: &Article) -> Result<(), StoreError> {
    let bytes = encode(a)?;
    tx.open_table(KB_ARTICLES)?.insert(a.id, bytes.as_slice())?;
    tx.open_table(KB_VERSIONS)?
        .insert((a.id, a.version), bytes.as_slice())?;
    Ok(())
}
