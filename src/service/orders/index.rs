//! Reading the order index: ids one page at a time from a key range, totals from counters.
//! Every list and queue goes through here, so none of them reads more than it shows.

use crate::domain::order::OrderId;
use crate::domain::order_index::{DAILY, DAY_BIT, Key, Kind, cst_day, day_counter, id_of, time_of};
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::store::{Tx, orders};

/// The ids of a list, newest (or largest) key first, one page.
pub fn newest(
    tx: &impl Tx,
    prefix: &Key,
    skip: usize,
    limit: usize,
) -> Result<Vec<OrderId>, AppError> {
    Ok(
        orders::keys(tx, prefix.as_slice(), None, true, skip, limit)?
            .iter()
            .filter_map(|k| id_of(k))
            .collect(),
    )
}

/// The ids and sort times of a queue, smallest (earliest) first, one page.
pub fn earliest(
    tx: &impl Tx,
    prefix: &Key,
    limit: usize,
) -> Result<Vec<(Timestamp, OrderId)>, AppError> {
    Ok(orders::keys(tx, prefix.as_slice(), None, false, 0, limit)?
        .iter()
        .filter_map(|k| Some((time_of(k)?, id_of(k)?)))
        .collect())
}

/// Skips beyond this many keys jump over whole days by their counters instead of reading
/// the keys.
const JUMP_AFTER: usize = 1000;

/// The ids whose sort time lies in `[from, to)`, newest first, skipping and taking a page.
/// A deep page of a list with day counters costs the days passed over, not their orders.
pub fn between(
    tx: &impl Tx,
    prefix: &Key,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    skip: usize,
    limit: usize,
) -> Result<Vec<OrderId>, AppError> {
    let (to, skip) = if skip > JUMP_AFTER {
        jump(tx, prefix, from, to, skip)?
    } else {
        (to, skip)
    };
    let lo = prefix.clone().time(from.unwrap_or(Timestamp(i64::MIN)));
    let hi = prefix.clone().time(to.unwrap_or(Timestamp(i64::MAX)));
    Ok(
        orders::keys_between(tx, lo.as_slice(), hi.as_slice(), true, skip + limit)?
            .iter()
            .skip(skip)
            .filter_map(|k| id_of(k))
            .collect(),
    )
}

/// Where a deep page of a list by registration time starts: whole days newer than the page
/// are passed over by their counters; gives the new end of the range and what is left to
/// skip within it.
fn jump(
    tx: &impl Tx,
    prefix: &Key,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    skip: usize,
) -> Result<(Option<Timestamp>, usize), AppError> {
    let kind = prefix.as_slice()[0];
    let whole_days = to.is_none_or(|t| day_start(cst_day(t)) == t);
    if !DAILY.iter().any(|k| *k as u8 == kind) || !whole_days {
        return Ok((to, skip));
    }
    let Some((lo, hi)) = held_days(tx, prefix, from, to)? else {
        return Ok((to, skip));
    };
    let mut passed = 0usize;
    let mut end = to;
    let mut day = hi;
    // Newest day first, a few weeks of counters a read.
    while day > lo {
        let first = day.saturating_sub(DAYS_A_READ).max(lo);
        let keys: Vec<Vec<u8>> = (first..day)
            .rev()
            .map(|d| day_counter(prefix.as_slice(), d))
            .collect();
        for (d, n) in (first..day).rev().zip(orders::counts_of(tx, &keys)?) {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if passed.saturating_add(n) > skip {
                return Ok((end, skip - passed));
            }
            passed += n;
            // Everything from this day on is passed over.
            end = Some(day_start(d));
        }
        day = first;
    }
    Ok((end, skip - passed))
}

/// Per-day counters read at once while jumping.
const DAYS_A_READ: u32 = 31;

/// The days `[lo, hi)` of a date filter (open ends too) narrowed to the days the list's
/// kind has counters for (a day-first counter range: its first and last key), so an open
/// end costs the county's days, not the calendar's; `None` when no day is left.
fn held_days(
    tx: &impl Tx,
    prefix: &Key,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<Option<(u32, u32)>, AppError> {
    let tag = prefix.as_slice()[0] | DAY_BIT;
    let Some((first, last)) = orders::count_bounds(tx, &[tag], &[tag.saturating_add(1)])? else {
        return Ok(None);
    };
    let day_of = |k: &[u8]| {
        k.get(1..5)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0)
    };
    let lo = from.map(cst_day).unwrap_or(0).max(day_of(&first));
    let hi = to
        .map(cst_day)
        .unwrap_or(u32::MAX)
        .min(day_of(&last).saturating_add(1));
    Ok((lo < hi).then_some((lo, hi)))
}

/// Midnight in Beijing that begins day `d` (days since the epoch).
fn day_start(d: u32) -> Timestamp {
    Timestamp(i64::from(d) * 86_400_000 - 8 * 3_600_000)
}

/// The ids whose sort time is before `t`, earliest first (overdue work), at most `limit`.
pub fn before(
    tx: &impl Tx,
    prefix: &Key,
    t: Timestamp,
    limit: usize,
) -> Result<Vec<(Timestamp, OrderId)>, AppError> {
    let hi = prefix.clone().time(t);
    Ok(
        orders::keys_between(tx, prefix.as_slice(), hi.as_slice(), false, limit)?
            .iter()
            .filter_map(|k| Some((time_of(k)?, id_of(k)?)))
            .collect(),
    )
}

/// The ids whose sort time lies in `[from, to)`, earliest first, at most `limit`.
pub fn within(
    tx: &impl Tx,
    prefix: &Key,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<(Timestamp, OrderId)>, AppError> {
    let lo = prefix.clone().time(from);
    let hi = prefix.clone().time(to);
    Ok(
        orders::keys_between(tx, lo.as_slice(), hi.as_slice(), false, limit)?
            .iter()
            .filter_map(|k| Some((time_of(k)?, id_of(k)?)))
            .collect(),
    )
}

/// How many keys a list has.
pub fn total(tx: &impl Tx, prefix: &Key) -> Result<u64, AppError> {
    Ok(orders::count(tx, prefix.as_slice())?)
}

/// How many orders registered in `[from, to)` (whole Beijing days) a filter list has, from
/// its per-day counters.
pub fn total_between(
    tx: &impl Tx,
    prefix: &Key,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<u64, AppError> {
    if from.is_none() && to.is_none() {
        return total(tx, prefix);
    }
    let Some((lo, hi)) = held_days(tx, prefix, from, to)? else {
        return Ok(0);
    };
    let keys: Vec<Vec<u8>> = (lo..hi)
        .map(|d| day_counter(prefix.as_slice(), d))
        .collect();
    Ok(orders::counts_of(tx, &keys)?
        .into_iter()
        .fold(0u64, u64::saturating_add))
}

/// A filter list's prefix.
pub fn filter(kind: Kind) -> Key {
    Key::new(kind)
}
