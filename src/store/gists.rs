//! Gists of the recent orders: the few fields duplicate hints compare (number, state,
//! channel, title, content, registration time), kept apart from the whole orders so a hint
//! reads a few hundred bytes for each of its ~40 candidates instead of decoding whole orders
//! with their rounds and timelines.
//!
//! Only orders registered within `GIST_DAYS` of the newest have one: registering an order
//! removes a few gists that fell out of the window, so the table stays the size of a
//! quarter's orders however long the county's history grows. Derived data: left out of
//! backups and made anew with the keys and rows.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{ORDER_GISTS, ORDERS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::order::{Order, OrderGist, OrderId};
use crate::domain::time::Timestamp;

/// How far back gists are kept: the duplicate hints' window (90 days) with room to spare.
pub const GIST_DAYS: i64 = 92;

/// Gists that fell out of the window removed at most per registered order (more than one,
/// so the table catches up after a quiet spell).
const PRUNE: usize = 4;

fn window_start(newest: Timestamp) -> Timestamp {
    newest.plus_secs(-GIST_DAYS * 86400)
}

/// The gist of an order: from the gists when it has one, else decoded from the whole order.
pub fn get(tx: &impl Tx, id: OrderId) -> Result<Option<OrderGist>, StoreError> {
    if let Some(v) = tx.open(ORDER_GISTS)?.get(id.0)? {
        return decode(v.value()).map(Some);
    }
    super::orders::gist(tx, id)
}

/// Keeps the order's gist in step with `new` (part of the one write path): a new order gets
/// one and pushes the oldest out of the window; a changed one is rewritten when it has one.
pub(super) fn put(tx: &WriteTx, old: Option<&Order>, new: &Order) -> Result<(), StoreError> {
    let gist = OrderGist::of(new);
    let mut t = tx.open_table(ORDER_GISTS)?;
    match old {
        None => {
            t.insert(new.id.0, encode(&gist)?.as_slice())?;
            prune(&mut t, window_start(new.created_at))
        }
        Some(o) if OrderGist::of(o) == gist => Ok(()),
        Some(_) => {
            if t.get(new.id.0)?.is_some() {
                t.insert(new.id.0, encode(&gist)?.as_slice())?;
            }
            Ok(())
        }
    }
}

/// Removes up to `PRUNE` of the oldest gists registered before `since`.
fn prune(t: &mut redb::Table<u64, &[u8]>, since: Timestamp) -> Result<(), StoreError> {
    for _ in 0..PRUNE {
        let first = match t.first()? {
            Some((k, v)) => (k.value(), decode::<OrderGist>(v.value())?.created_at),
            None => return Ok(()),
        };
        if first.1 >= since {
            return Ok(());
        }
        t.remove(first.0)?;
    }
    Ok(())
}

/// Every gist made anew: for the orders registered within the window of the newest one
/// (the migration, and after a restore). Ids grow with registration, so the newest orders
/// are read from the end until one falls out of the window.
pub fn rebuild(tx: &WriteTx) -> Result<(), StoreError> {
    tx.delete_table(ORDER_GISTS)?;
    let orders = tx.open_table(ORDERS)?;
    let mut gists = tx.open_table(ORDER_GISTS)?;
    let mut since = None;
    for row in orders.iter()?.rev() {
        let (id, v) = row?;
        let o: Order = decode(v.value())?;
        let since = *since.get_or_insert_with(|| window_start(o.created_at));
        if o.created_at < since {
            break;
        }
        gists.insert(id.value(), encode(&OrderGist::of(&o))?.as_slice())?;
    }
    Ok(())
}

/// Whether every stored gist is its order's, and every order of the window has one (a test
/// holds the write path to it).
pub fn in_step(tx: &impl Tx) -> Result<bool, StoreError> {
    let orders = tx.open(ORDERS)?;
    let gists = tx.open(ORDER_GISTS)?;
    let Some((_, newest)) = orders.last()? else {
        return Ok(gists.first()?.is_none());
    };
    let since = window_start(decode::<Order>(newest.value())?.created_at);
    for row in orders.iter()?.rev() {
        let (id, v) = row?;
        let o: Order = decode(v.value())?;
        if o.created_at < since {
            break;
        }
        match gists.get(id.value())? {
            Some(g) if decode::<OrderGist>(g.value())? == OrderGist::of(&o) => {}
            _ => return Ok(false),
        }
    }
    for row in gists.iter()? {
        let (id, g) = row?;
        let Some(v) = orders.get(id.value())? else {
            return Ok(false);
        };
        if decode::<OrderGist>(g.value())? != OrderGist::of(&decode::<Order>(v.value())?) {
            return Ok(false);
        }
    }
    Ok(true)
}
