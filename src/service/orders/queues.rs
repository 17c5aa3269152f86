//! The work lists each role starts the day with.

use serde::Serialize;

use super::view::{View, build};
use super::{config, unit_map};
use crate::domain::calendar::DueState;
use crate::domain::order::Order;
use crate::domain::order_state::State;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, orders};

#[derive(Serialize)]
pub struct Queue {
    /// The template names the queue by this key.
    pub key: &'static str,
    pub count: usize,
    pub items: Vec<View>,
    /// For the overdue queue: (unit code, unit name, orders) so a unit can be urged at once.
    pub by_unit: Vec<(String, String, usize)>,
}

/// Rows shown per queue on the home page; the full list is one click away.
const SHOWN: usize = 50;

fn in_state(tx: &impl Tx, s: State) -> Result<Vec<Order>, AppError> {
    let mut out = Vec::new();
    for id in orders::ids_in_state(tx, s.code())? {
        if let Some(o) = orders::get(tx, id)? {
            out.push(o);
        }
    }
    Ok(out)
}

/// Overdue first, then by deadline.
fn by_deadline(v: &mut [Order]) {
    v.sort_by_key(|o| o.running_deadline().map(|d| d.due.0).unwrap_or(i64::MAX));
}

pub fn for_actor(app: &App, actor: &Actor) -> Result<Vec<Queue>, AppError> {
    let now = app.now();
    app.store.read(|tx| -> Result<Vec<Queue>, AppError> {
        let cfg = config(tx)?;
        let units = unit_map(tx)?;
        let mut lists: Vec<(&'static str, Vec<Order>)> = Vec::new();
        match actor.role {
            Role::Operator | Role::ShiftLead => {
                if actor.role == Role::ShiftLead {
                    lists.push(("return_review", in_state(tx, State::ReturnReview)?));
                    let ext: Vec<Order> = in_state(tx, State::InProgress)?
                        .into_iter()
                        .filter(|o| {
                            o.current_round()
                                .is_some_and(|r| r.extensions.iter().any(|e| e.approved.is_none()))
                        })
                        .collect();
                    lists.push(("extension_review", ext));
                    lists.push(("reply_review", in_state(tx, State::ReplyReview)?));
                    let (proposed, finals): (Vec<Order>, Vec<Order>) =
                        in_state(tx, State::FinalReview)?
                            .into_iter()
                            .partition(|o| o.flags.reopen_proposal.is_some());
                    lists.push(("reopen_proposals", proposed));
                    lists.push(("final_review", finals));
                }
                lists.push(("to_dispatch", in_state(tx, State::Registered)?));
                let today = now.cst_day();
                let mut mine = Vec::new();
                for id in orders::ids_desc(tx, None, 500)? {
                    let Some(o) = orders::get(tx, id)? else {
                        continue;
                    };
                    if o.created_at.cst_day() != today {
                        break;
                    }
                    if o.created_by == actor.id {
                        mine.push(o);
                    }
                }
                lists.push(("mine_today", mine));
            }
            Role::Qa => {
                let mut v = in_state(tx, State::CallbackPending)?;
                // The callers of merged orders whose master was answered are called too.
                v.extend(
                    in_state(tx, State::Merged)?
                        .into_iter()
                        .filter(|o| o.flags.callback_pending),
                );
                // Soonest due (so overdue) first, then longest waiting.
                v.sort_by_key(|o| {
                    (
                        o.callback_due.map(|d| d.due.0).unwrap_or(i64::MAX),
                        o.updated_at.0,
                    )
                });
                lists.push(("callback", v));
            }
            Role::Supervisor | Role::Admin => {
                let mut running = in_state(tx, State::Dispatched)?;
                running.extend(in_state(tx, State::InProgress)?);
                let (mut overdue, mut soon): (Vec<Order>, Vec<Order>) = (Vec::new(), Vec::new());
                for o in running {
                    match o.running_deadline().map(|d| d.state(now)) {
                        Some(DueState::Overdue) => overdue.push(o),
                        Some(DueState::DueSoon) => soon.push(o),
                        _ => {}
                    }
                }
                // Grouped by unit, each group by deadline.
                overdue.sort_by_key(|o| {
                    (
                        o.current_round().map(|r| r.unit.0),
                        o.running_deadline().map(|d| d.due.0),
                    )
                });
                soon.sort_by_key(|o| {
                    (
                        o.current_round().map(|r| r.unit.0),
                        o.running_deadline().map(|d| d.due.0),
                    )
                });
                lists.push(("overdue", overdue));
                lists.push(("due_soon", soon));
                // 督办 and 催办 records: every open order under supervision or urged.
                let mut supervised = Vec::new();
                let mut urged = Vec::new();
                for s in State::ALL.into_iter().filter(|s| s.is_open()) {
                    for o in in_state(tx, s)? {
                        if o.flags.supervised.is_some() {
                            supervised.push(o.clone());
                        }
                        if o.flags.urge_count > 0 {
                            urged.push(o);
                        }
                    }
                }
                urged.sort_by_key(|o| std::cmp::Reverse(o.flags.urge_count));
                lists.push(("supervised", supervised));
                lists.push(("urged", urged));
            }
            Role::Unit => {
                let Some(unit) = actor.unit else {
                    return Ok(Vec::new());
                };
                let mut sign = Vec::new();
                let mut doing = Vec::new();
                let mut replied = Vec::new();
                let mut co_work = Vec::new();
                let mut done = Vec::new();
                for id in orders::ids_for_unit(tx, unit)? {
                    let Some(o) = orders::get(tx, id)? else {
                        continue;
                    };
                    let cur = o.current_round();
                    let main = cur.is_some_and(|r| r.unit == unit);
                    let co = cur.is_some_and(|r| r.co_units.contains(&unit));
                    match (main, co, o.state) {
                        (true, _, State::Dispatched) => sign.push(o),
                        (true, _, State::InProgress) => doing.push(o),
                        (
                            true,
                            _,
                            State::ReplyReview | State::CallbackPending | State::FinalReview,
                        ) => replied.push(o),
                        // 协办: its own deadline (signing, then its opinion) orders the list.
                        (false, true, State::Dispatched | State::InProgress) => co_work.push(o),
                        // Its part is over (finished, returned or handed on): its own
                        // rounds stay readable in the done list.
                        _ => done.push(o),
                    }
                }
                by_deadline(&mut sign);
                by_deadline(&mut doing);
                co_work.sort_by_key(|o| {
                    o.current_round()
                        .and_then(|r| r.co_deadline(unit))
                        .map(|d| d.due.0)
                        .unwrap_or(i64::MAX)
                });
                lists.push(("to_sign", sign));
                lists.push(("in_progress", doing));
                lists.push(("replied", replied));
                lists.push(("co_work", co_work));
                lists.push(("done", done));
            }
        }
        Ok(lists
            .into_iter()
            .map(|(key, v)| {
                let mut by_unit: Vec<(String, String, usize)> = Vec::new();
                if key == "overdue" {
                    for o in &v {
                        let Some(u) = o.current_round().and_then(|r| units.get(&r.unit)) else {
                            continue;
                        };
                        match by_unit.iter_mut().find(|g| g.0 == u.code) {
                            Some(g) => g.2 += 1,
                            None => by_unit.push((u.code.clone(), u.name.clone(), 1)),
                        }
                    }
                }
                Queue {
                    key,
                    count: v.len(),
                    items: v
                        .iter()
                        .take(SHOWN)
                        .map(|o| build(o, actor, &cfg, &units, now))
                        .collect(),
                    by_unit,
                }
            })
            .collect())
    })
}

/// One row of the shift lead's board: an operator's intake today and in the last hour.
#[derive(Serialize)]
pub struct SeatRow {
    pub name: String,
    pub today: usize,
    pub last_hour: usize,
}

pub fn board(app: &App, actor: &Actor) -> Result<Vec<SeatRow>, AppError> {
    if !matches!(actor.role, Role::ShiftLead | Role::Supervisor) {
        return Err(AppError::Forbidden);
    }
    let now = app.now();
    let today = now.cst_day();
    let hour_ago = now.plus_secs(-3600);
    app.store.read(|tx| -> Result<Vec<SeatRow>, AppError> {
        let mut rows: Vec<(u64, SeatRow)> = crate::store::users::list(tx)?
            .into_iter()
            .filter(|u| u.role == Role::Operator && !u.disabled)
            .map(|u| {
                (
                    u.id.0,
                    SeatRow {
                        name: u.display_name,
                        today: 0,
                        last_hour: 0,
                    },
                )
            })
            .collect();
        for id in orders::ids_desc(tx, None, 5000)? {
            let Some(o) = orders::get(tx, id)? else {
                continue;
            };
            if o.created_at.cst_day() != today {
                break;
            }
            if let Some((_, r)) = rows.iter_mut().find(|(uid, _)| *uid == o.created_by.0) {
                r.today += 1;
                if o.created_at >= hour_ago {
                    r.last_hour += 1;
                }
            }
        }
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    })
}
