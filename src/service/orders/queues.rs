//! The work lists each role starts the day with: each one page of an index range, its count
//! from a counter (or, for time-bound lists like overdue, from the range of open work).

use std::collections::HashSet;

use serde::Serialize;

use super::index;
use super::view::{View, brief, build};
use super::{config, unit_map};
use crate::domain::order::OrderId;
use crate::domain::order_index::{Key, Kind, UnitList, cst_day};
use crate::domain::order_state::State;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, orders};

#[derive(Serialize)]
pub struct Queue {
    /// The template names the queue by this key.
    pub key: &'static str,
    pub count: usize,
    /// The count stopped at the most a list reads (shown as "≥ count").
    pub more: bool,
    pub items: Vec<View>,
    /// For the overdue queue: (unit code, unit name, orders, more than that) so a unit can be
    /// urged at once.
    pub by_unit: Vec<(String, String, usize, bool)>,
}

/// The most overdue keys read for one state's or one unit list's overdue count: a backlog
/// larger than this shows as "≥" and the page stays one bounded read.
const OVERDUE_READ: usize = 2000;

/// How far back due-soon looks for deadlines that entered their last quarter: the longest
/// deadline the settings allow (60 working days and five extensions of 30) has a last
/// quarter of about 75 calendar days; older entries are all overdue.
const SOON_LOOKBACK_DAYS: i64 = 180;

/// Rows shown per queue on the home page (the most urgent first); the full list is one click
/// away.
const SHOWN: usize = 25;

/// One queue read from the index: the ids shown and the count.
struct Ids {
    key: &'static str,
    ids: Vec<OrderId>,
    count: u64,
    more: bool,
    by_unit: Vec<(String, String, usize, bool)>,
}

fn ids(key: &'static str, ids: Vec<OrderId>, count: u64) -> Ids {
    Ids {
        key,
        ids,
        count,
        more: false,
        by_unit: Vec::new(),
    }
}

/// A queue by the deadline (or waiting time) running now: earliest first.
fn earliest(
    tx: &impl Tx,
    key: &'static str,
    prefix: Key,
    late_first: bool,
) -> Result<Ids, AppError> {
    let count = index::total(tx, &prefix)?;
    let page = if late_first {
        index::newest(tx, &prefix, 0, SHOWN)?
    } else {
        index::earliest(tx, &prefix, SHOWN)?
            .into_iter()
            .map(|(_, id)| id)
            .collect()
    };
    Ok(ids(key, page, count))
}

/// The first page of a list sorted by deadline, or of the same list the other way round.
fn shown(sorted: &[(Timestamp, OrderId)], late_first: bool) -> Vec<OrderId> {
    let ids = sorted.iter().map(|(_, id)| *id);
    if late_first {
        ids.rev().take(SHOWN).collect()
    } else {
        ids.take(SHOWN).collect()
    }
}

/// A list newest first.
fn newest(tx: &impl Tx, key: &'static str, prefix: Key) -> Result<Ids, AppError> {
    let count = index::total(tx, &prefix)?;
    Ok(ids(key, index::newest(tx, &prefix, 0, SHOWN)?, count))
}

fn state_due(s: State) -> Key {
    Key::new(Kind::StateDue).str(s.code())
}

/// Today's registrations by one operator: the day counter and the newest page.
fn mine_today(tx: &impl Tx, actor: &Actor, now: Timestamp) -> Result<Ids, AppError> {
    let prefix = Key::new(Kind::ByOperator).u64(actor.id.0);
    let start = day_start(now);
    let count = index::total_between(tx, &prefix, Some(start), None)?;
    let page = index::between(tx, &prefix, Some(start), None, 0, SHOWN)?;
    Ok(ids("mine_today", page, count))
}

/// Midnight in Beijing of the day `t` falls in.
fn day_start(t: Timestamp) -> Timestamp {
    Timestamp(i64::from(cst_day(t)) * 86_400_000 - 8 * 3_600_000)
}

/// Open orders past the deadline running now (both states merged, earliest first), with the
/// count per unit from the units' own queues; and the ids of those late since the due-soon
/// window began (the due-soon list leaves them out). Each count reads at most `OVERDUE_READ`
/// keys a list.
fn overdue(
    tx: &impl Tx,
    now: Timestamp,
    late_first: bool,
) -> Result<(Ids, HashSet<OrderId>), AppError> {
    let mut all = Vec::new();
    let mut more = false;
    for state in [State::Dispatched, State::InProgress] {
        let got = index::before(tx, &state_due(state), now, OVERDUE_READ)?;
        more |= got.len() >= OVERDUE_READ;
        all.extend(got);
    }
    all.sort();
    let count = all.len() as u64;
    // Every order late since the due-soon window began (keys only, bounded by the window,
    // not the backlog), so due-soon leaves them out without reading their rows.
    let since = now.plus_secs(-SOON_LOOKBACK_DAYS * 86_400);
    let mut late: HashSet<OrderId> = all.iter().map(|(_, id)| *id).collect();
    for state in [State::Dispatched, State::InProgress] {
        late.extend(index::between(
            tx,
            &state_due(state),
            Some(since),
            Some(now),
            0,
            usize::MAX,
        )?);
    }
    let mut by_unit = Vec::new();
    for u in crate::store::units::list(tx)? {
        let (mut n, mut capped) = (0, false);
        for list in [UnitList::ToSign, UnitList::InProgress] {
            let prefix = Key::new(Kind::UnitQueue).u64(u.id.0).u8(list as u8);
            let got = index::before(tx, &prefix, now, OVERDUE_READ)?.len();
            capped |= got >= OVERDUE_READ;
            n += got;
        }
        if n > 0 {
            by_unit.push((u.code.clone(), u.name.clone(), n, capped));
        }
    }
    by_unit.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let ids = Ids {
        key: "overdue",
        ids: shown(&all, late_first),
        count,
        more,
        by_unit,
    };
    Ok((ids, late))
}

/// Running deadlines in their last quarter and not yet passed, soonest first: those in their
/// last quarter that are not `late` (only those rows are read).
fn due_soon(
    tx: &impl Tx,
    now: Timestamp,
    late: &HashSet<OrderId>,
    late_first: bool,
) -> Result<Ids, AppError> {
    let mut soon = Vec::new();
    let since = now.plus_secs(-SOON_LOOKBACK_DAYS * 86_400);
    let entered = index::between(
        tx,
        &Key::new(Kind::SoonAt),
        Some(since),
        Some(now.plus_secs(1)),
        0,
        usize::MAX,
    )?;
    for id in entered {
        if late.contains(&id) {
            continue;
        }
        if let Some(r) = orders::row(tx, id)?
            && let Some(d) = r.due
            && d.due >= now
        {
            soon.push((d.due, id));
        }
    }
    soon.sort();
    let count = soon.len() as u64;
    Ok(ids("due_soon", shown(&soon, late_first), count))
}

/// How far ahead a unit's due-soon count looks for deadlines: a deadline's last quarter is
/// shorter than this for any limit the settings allow a round to start with.
const UNIT_SOON_AHEAD_DAYS: i64 = 30;

/// The nearest deadlines of a unit's list read for its due-soon count (each reads the order's
/// row for its own due-soon time); a unit with more open work sees "≥".
const UNIT_SOON_READ: usize = 100;

/// How many of a unit's open orders (to sign and in progress) are past their deadline (at
/// most `OVERDUE_READ` keys a list) and in their last quarter, 临期 (the `UNIT_SOON_READ`
/// nearest deadlines a list, each order's own due-soon time from its row): counts only — the
/// orders themselves head the deadline-sorted lists.
fn unit_due(
    tx: &impl Tx,
    unit: crate::domain::unit::UnitId,
    now: Timestamp,
) -> Result<(Ids, Ids), AppError> {
    let (mut late, mut soon) = (0u64, 0u64);
    let (mut late_more, mut soon_more) = (false, false);
    let ahead = now.plus_secs(UNIT_SOON_AHEAD_DAYS * 86_400);
    for list in [UnitList::ToSign, UnitList::InProgress] {
        let prefix = Key::new(Kind::UnitQueue).u64(unit.0).u8(list as u8);
        let got = index::before(tx, &prefix, now, OVERDUE_READ)?.len();
        late_more |= got >= OVERDUE_READ;
        late += got as u64;
        let next = index::within(tx, &prefix, now, ahead, UNIT_SOON_READ)?;
        soon_more |= next.len() >= UNIT_SOON_READ;
        for (_, id) in next {
            if orders::row(tx, id)?.is_some_and(|r| r.due.is_some_and(|d| d.soon_at <= now)) {
                soon += 1;
            }
        }
    }
    Ok((
        Ids {
            more: late_more,
            ..ids("overdue", Vec::new(), late)
        },
        Ids {
            more: soon_more,
            ..ids("due_soon", Vec::new(), soon)
        },
    ))
}

fn unit_lists(
    tx: &impl Tx,
    unit: crate::domain::unit::UnitId,
    now: Timestamp,
    late_first: bool,
) -> Result<Vec<Ids>, AppError> {
    let q = |l: UnitList| Key::new(Kind::UnitQueue).u64(unit.0).u8(l as u8);
    // 超期 and 临期 are counted for the figures at the top; their orders head the deadline
    // lists below (待签收, 办理中).
    let (late, soon) = unit_due(tx, unit, now)?;
    Ok(vec![
        late,
        soon,
        earliest(tx, "to_sign", q(UnitList::ToSign), late_first)?,
        earliest(tx, "in_progress", q(UnitList::InProgress), late_first)?,
        newest(tx, "replied", q(UnitList::Replied))?,
        earliest(tx, "co_work", q(UnitList::CoWork), late_first)?,
        newest(tx, "done", q(UnitList::Done))?,
    ])
}

/// The callback to make next: the earliest due in the callback queue other than `after` (the
/// one just done, which may still wait after an unreachable attempt). For those who call back.
pub fn next_callback(
    app: &App,
    actor: &Actor,
    after: Option<OrderId>,
) -> Result<Option<OrderId>, AppError> {
    actor.require(crate::domain::role::Permission::CallbacksWork)?;
    app.store.read(|tx| -> Result<Option<OrderId>, AppError> {
        Ok(index::earliest(tx, &Key::new(Kind::Callback), 2)?
            .into_iter()
            .map(|(_, id)| id)
            .find(|id| Some(*id) != after))
    })
}

/// One of a role's work counters for the top bar: how many wait in a queue.
#[derive(Serialize)]
pub struct Counter {
    pub key: &'static str,
    pub label: &'static str,
    pub count: u64,
    /// The count stopped at the most a list reads (shown as "≥").
    pub more: bool,
    pub href: &'static str,
}

/// The actor's work counters (the queues that wait on them), polled by the top bar: a
/// counter read each, the overdue count a bounded range.
pub fn counters(app: &App, actor: &Actor) -> Result<Vec<Counter>, AppError> {
    actor.require(crate::domain::role::Permission::OrdersRead)?;
    // A platform's token has no desk: the centre's queues are none of its business.
    if actor.channel.is_some() {
        return Err(AppError::Forbidden);
    }
    let now = app.now();
    let c = |key, label, count, href| Counter {
        key,
        label,
        count,
        more: false,
        href,
    };
    app.store.read(|tx| -> Result<Vec<Counter>, AppError> {
        let total = |k: Key| index::total(tx, &k);
        let mut out = Vec::new();
        match actor.role {
            Role::Operator | Role::ShiftLead => {
                if actor.role == Role::ShiftLead {
                    out.push(c(
                        "return_review",
                        "退单审核",
                        total(state_due(State::ReturnReview))?,
                        "/#q-return_review",
                    ));
                    out.push(c(
                        "extension_review",
                        "延期审核",
                        total(Key::new(Kind::ExtensionPending))?,
                        "/#q-extension_review",
                    ));
                    out.push(c(
                        "reply_review",
                        "答复审核",
                        total(state_due(State::ReplyReview))?,
                        "/#q-reply_review",
                    ));
                    out.push(c(
                        "final_review",
                        "待审结",
                        total(state_due(State::FinalReview))?,
                        "/#q-final_review",
                    ));
                }
                out.push(c(
                    "to_dispatch",
                    "待派单",
                    total(state_due(State::Registered))?,
                    "/#q-to_dispatch",
                ));
            }
            Role::Qa => out.push(c(
                "callback",
                "待回访",
                total(Key::new(Kind::Callback))?,
                "/#q-callback",
            )),
            Role::Supervisor | Role::Admin => {
                let (late, _) = overdue(tx, now, false)?;
                out.push(Counter {
                    more: late.more,
                    ..c("overdue", "超期", late.count, "/#q-overdue")
                });
                out.push(c(
                    "supervised",
                    "督办中",
                    total(Key::new(Kind::Supervised))?,
                    "/#q-supervised",
                ));
            }
            Role::Unit => {
                let Some(unit) = actor.unit else {
                    return Ok(out);
                };
                let q = |l: UnitList| Key::new(Kind::UnitQueue).u64(unit.0).u8(l as u8);
                let (late, soon) = unit_due(tx, unit, now)?;
                out.push(Counter {
                    more: late.more,
                    ..c("overdue", "超期", late.count, "/#tile-overdue")
                });
                out.push(Counter {
                    more: soon.more,
                    ..c("due_soon", "临期", soon.count, "/#tile-due_soon")
                });
                out.push(c(
                    "to_sign",
                    "待签收",
                    total(q(UnitList::ToSign))?,
                    "/#q-to_sign",
                ));
                out.push(c(
                    "in_progress",
                    "办理中",
                    total(q(UnitList::InProgress))?,
                    "/#q-in_progress",
                ));
                out.push(c(
                    "co_work",
                    "协办",
                    total(q(UnitList::CoWork))?,
                    "/#q-co_work",
                ));
            }
        }
        Ok(out)
    })
}

/// The actor's queues, each one page: deadline queues earliest deadline first (the longest
/// late first), or with `late_first` the other way round.
pub fn for_actor(app: &App, actor: &Actor, late_first: bool) -> Result<Vec<Queue>, AppError> {
    let now = app.now();
    app.store.read(|tx| -> Result<Vec<Queue>, AppError> {
        let mut lists: Vec<Ids> = Vec::new();
        match actor.role {
            Role::Operator | Role::ShiftLead => {
                if actor.role == Role::ShiftLead {
                    lists.push(earliest(
                        tx,
                        "return_review",
                        state_due(State::ReturnReview),
                        late_first,
                    )?);
                    lists.push(earliest(
                        tx,
                        "extension_review",
                        Key::new(Kind::ExtensionPending),
                        late_first,
                    )?);
                    lists.push(earliest(
                        tx,
                        "reply_review",
                        state_due(State::ReplyReview),
                        late_first,
                    )?);
                    lists.push(earliest(
                        tx,
                        "reopen_proposals",
                        Key::new(Kind::ReopenProposal),
                        late_first,
                    )?);
                    lists.push(earliest(
                        tx,
                        "final_review",
                        state_due(State::FinalReview),
                        late_first,
                    )?);
                }
                lists.push(earliest(
                    tx,
                    "to_dispatch",
                    state_due(State::Registered),
                    late_first,
                )?);
                lists.push(mine_today(tx, actor, now)?);
            }
            Role::Qa => lists.push(earliest(
                tx,
                "callback",
                Key::new(Kind::Callback),
                late_first,
            )?),
            Role::Supervisor | Role::Admin => {
                let (late, late_ids) = overdue(tx, now, late_first)?;
                lists.push(late);
                lists.push(due_soon(tx, now, &late_ids, late_first)?);
                lists.push(newest(tx, "supervised", Key::new(Kind::Supervised))?);
                lists.push(newest(tx, "urged", Key::new(Kind::Urged))?);
            }
            Role::Unit => {
                let Some(unit) = actor.unit else {
                    return Ok(Vec::new());
                };
                lists.extend(unit_lists(tx, unit, now, late_first)?);
            }
        }
        let cfg = config(tx)?;
        let units = unit_map(tx)?;
        let mut out = Vec::new();
        // An order in two lists (超期 and 待签收) is read once.
        let mut read: std::collections::HashMap<OrderId, Option<crate::domain::order::Order>> =
            std::collections::HashMap::new();
        for l in lists {
            let mut items = Vec::with_capacity(l.ids.len());
            for id in &l.ids {
                let o = match read.get(id) {
                    Some(o) => o.clone(),
                    None => {
                        let o = orders::get(tx, *id)?.map(brief);
                        read.insert(*id, o.clone());
                        o
                    }
                };
                if let Some(o) = o {
                    items.push(build(&o, actor, &cfg, &units, now));
                }
            }
            out.push(Queue {
                key: l.key,
                count: usize::try_from(l.count).unwrap_or(usize::MAX),
                more: l.more,
                items,
                by_unit: l.by_unit,
            });
        }
        Ok(out)
    })
}

/// One row of the shift lead's board: an operator's intake today and in the last hour.
#[derive(Serialize)]
pub struct SeatRow {
    pub name: String,
    /// Signed in now, and on which seat (if one was taken).
    pub online: bool,
    pub seat: Option<u8>,
    pub today: usize,
    /// Counted up to `LAST_HOUR_READ` (a key read each); `last_hour_more` says there were more.
    pub last_hour: usize,
    pub last_hour_more: bool,
}

/// Keys read at most for an operator's last hour: one order every 3.6 s; the board shows
/// "≥ 1000" beyond it instead of reading an unbounded range.
const LAST_HOUR_READ: usize = 1000;

pub fn board(app: &App, actor: &Actor) -> Result<Vec<SeatRow>, AppError> {
    if !matches!(actor.role, Role::ShiftLead | Role::Supervisor) {
        return Err(AppError::Forbidden);
    }
    let now = app.now();
    let hour_ago = now.plus_secs(-3600);
    let idle = app.settings().idle_secs();
    app.store.read(|tx| -> Result<Vec<SeatRow>, AppError> {
        let live = crate::store::sessions::live(tx, now, idle)?;
        let mut rows = Vec::new();
        for u in crate::store::users::list(tx)?
            .into_iter()
            .filter(|u| u.role == Role::Operator && !u.disabled)
        {
            let prefix = Key::new(Kind::ByOperator).u64(u.id.0);
            let today = index::total_between(tx, &prefix, Some(day_start(now)), None)?;
            let last_hour =
                index::between(tx, &prefix, Some(hour_ago), None, 0, LAST_HOUR_READ + 1)?.len();
            let mine: Vec<Option<u8>> = live
                .iter()
                .filter(|(who, _)| *who == u.id)
                .map(|(_, seat)| *seat)
                .collect();
            rows.push(SeatRow {
                name: u.display_name,
                online: !mine.is_empty(),
                seat: mine.iter().flatten().next().copied(),
                today: usize::try_from(today).unwrap_or(usize::MAX),
                last_hour: last_hour.min(LAST_HOUR_READ),
                last_hour_more: last_hour > LAST_HOUR_READ,
            });
        }
        // Seats first in seat order, then the others signed in, then those away.
        rows.sort_by_key(|r| (!r.online, r.seat.is_none(), r.seat));
        Ok(rows)
    })
}

/// The orders a unit must still sign or finish whose deadline has passed (一键催办), at most
/// `OVERDUE_READ` of each list, the longest overdue first.
pub fn unit_overdue(
    tx: &impl Tx,
    unit: crate::domain::unit::UnitId,
    now: Timestamp,
) -> Result<Vec<OrderId>, AppError> {
    let mut out = Vec::new();
    for list in [UnitList::ToSign, UnitList::InProgress] {
        let prefix = Key::new(Kind::UnitQueue).u64(unit.0).u8(list as u8);
        out.extend(
            index::before(tx, &prefix, now, OVERDUE_READ)?
                .into_iter()
                .map(|(_, id)| id),
        );
    }
    Ok(out)
}
