//! The sums the write path moves (list counters and per-day facts), deferred to the end of a
//! batch on the writer thread.
//!
//! The changes of one batch move mostly the same sums (today's counters of the same state,
//! kind and channel; the same unit's facts): the writer gathers their moves while the batch
//! runs and adds each sum once, just before the commit, instead of reading and writing it
//! once per change. A change aborted with its batch takes its moves along (the batch begins
//! again with none). Batched changes never read these sums, so none sees them stale; every
//! other writer (one-off changes, migrations) adds its moves at once.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::orders::add_to_sums;
use super::tables::ORDER_FACTS;
use super::{StoreError, WriteTx};

/// Which table of sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Sums {
    Counts,
    Facts,
}

type Moves = BTreeMap<(Sums, Vec<u8>), i64>;

thread_local! {
    /// The open batch's moves, on the writer thread while a batch runs; `None` elsewhere.
    static DEFERRED: RefCell<Option<Moves>> = const { RefCell::new(None) };
}

/// Moves sums of `which` by `moves`: gathered for the batch's end on the writer, at once
/// anywhere else.
pub(super) fn add(
    tx: &WriteTx,
    which: Sums,
    moves: impl IntoIterator<Item = (Vec<u8>, i64)>,
) -> Result<(), StoreError> {
    let rest = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(pending) => {
            for (k, n) in moves {
                *pending.entry((which, k)).or_default() += n;
            }
            None
        }
        None => Some(moves),
    });
    match rest {
        Some(moves) => add_now(tx, which, moves),
        None => Ok(()),
    }
}

/// Counters move in the index's pending tier (see `pending`), facts in place.
fn add_now(
    tx: &WriteTx,
    which: Sums,
    moves: impl IntoIterator<Item = (Vec<u8>, i64)>,
) -> Result<(), StoreError> {
    match which {
        Sums::Counts => super::pending::add_counts(tx, moves),
        Sums::Facts => add_to_sums(&mut tx.open_table(ORDER_FACTS)?, moves),
    }
}

/// From now on this thread's moves wait for `flush` (a batch begins); any left from an
/// aborted batch are dropped.
pub(super) fn defer() {
    DEFERRED.with(|d| *d.borrow_mut() = Some(BTreeMap::new()));
}

/// Adds the gathered moves to their sums in `tx` (the batch is about to commit) and stops
/// gathering.
pub(super) fn flush(tx: &WriteTx) -> Result<(), StoreError> {
    let pending = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    for which in [Sums::Counts, Sums::Facts] {
        let moves = pending
            .iter()
            .filter(|((w, _), _)| *w == which)
            .map(|((_, k), n)| (k.clone(), *n));
        add_now(tx, which, moves)?;
    }
    Ok(())
}

/// Stops gathering without adding anything (the batch's transaction was dropped).
pub(super) fn discard() {
    DEFERRED.with(|d| *d.borrow_mut() = None);
}
