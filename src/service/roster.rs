//! The duty roster (排班): the shift lead plans the four seats round the clock by week (from
//! a template or the week before), operators see their shifts and ask to swap, the shift lead
//! decides; the seat board compares the plan with who is signed in.

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::role::{Permission, Role};
use crate::domain::roster::{
    self, Assignment, Place, SEATS, Slot, Swap, SwapState, Week, check_slots, parse_week,
};
use crate::domain::time::Timestamp;
use crate::domain::user::{User, UserId};
use crate::error::AppError;
use crate::store::{Tx, WriteTx, audit, meta, users};

#[derive(Default, Serialize, Deserialize)]
struct Templates {
    items: Vec<Template>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Template {
    name: String,
    slots: Vec<Slot>,
    cells: Vec<Assignment>,
}

impl crate::store::codec::Record for Templates {
    const KIND: &'static str = "roster-templates";
    const VERSION: u8 = 1;
}

#[derive(Default, Serialize, Deserialize)]
struct Swaps {
    items: Vec<Swap>,
}

impl crate::store::codec::Record for Swaps {
    const KIND: &'static str = "roster-swaps";
    const VERSION: u8 = 1;
}

/// Templates kept at most, swaps waiting at most, decided swaps remembered.
const MAX_TEMPLATES: usize = 20;
const MAX_PENDING: usize = 100;
const KEEP_DECIDED: usize = 300;

fn key(week: &str) -> String {
    format!("roster:{week}")
}

fn week_arg(week: &str) -> Result<String, AppError> {
    parse_week(week)
        .map(|(y, w)| format!("{y:04}-W{w:02}"))
        .ok_or_else(|| AppError::invalid("week", "周次应为 YYYY-Www，例如 2026-W49"))
}

fn load(tx: &impl Tx, week: &str) -> Result<Week, AppError> {
    Ok(meta::get(tx, &key(week))?.unwrap_or_else(|| Week::empty(week)))
}

#[derive(Clone, Serialize)]
pub struct Person {
    pub id: u64,
    pub username: String,
    pub display_name: String,
}

fn person(u: &User) -> Person {
    Person {
        id: u.id.0,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
    }
}

/// Who may sit a seat: active operators and shift leads.
fn seatable(u: &User) -> bool {
    !u.disabled && matches!(u.role, Role::Operator | Role::ShiftLead)
}

#[derive(Serialize)]
pub struct DayView {
    pub index: u8,
    pub date: String,
    pub label: String,
}

#[derive(Serialize)]
pub struct CellView {
    pub day: u8,
    pub slot: u8,
    pub seat: u8,
    pub user: Person,
}

#[derive(Serialize)]
pub struct SwapView {
    pub id: u64,
    pub requester: String,
    pub week: String,
    pub what: String,
    pub with: String,
    pub reason: String,
    pub state: SwapState,
    pub state_label: &'static str,
    pub note: Option<String>,
    pub mine: bool,
}

#[derive(Serialize)]
pub struct RosterView {
    pub week: String,
    pub prev: String,
    pub next: String,
    pub from: String,
    pub to: String,
    pub days: Vec<DayView>,
    pub slots: Vec<Slot>,
    pub seats: u8,
    pub cells: Vec<CellView>,
    /// `grid[day][slot][seat-1]`: the planned person, for the page.
    pub grid: Vec<Vec<Vec<Option<Person>>>>,
    pub version: u64,
    pub updated_at: Option<String>,
    pub swaps: Vec<SwapView>,
    pub people: Vec<Person>,
    pub templates: Vec<String>,
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

fn place_label(w: &Week, week: &str, at: Place) -> String {
    let date = parse_week(week)
        .and_then(|(y, n)| roster::monday(y, n))
        .and_then(|m| m.checked_add(time::Duration::days(i64::from(at.day))))
        .map(|d| format!("{:02}-{:02}", u8::from(d.month()), d.day()))
        .unwrap_or_default();
    let slot = w
        .slots
        .get(usize::from(at.slot))
        .map(|s| s.name.clone())
        .unwrap_or_default();
    format!(
        "{date} {} {slot} {} 号席",
        WEEKDAYS.get(usize::from(at.day)).copied().unwrap_or(""),
        at.seat
    )
}

/// A week of the roster as its readers see it (swaps: all for the shift lead, one's own for
/// an operator).
pub fn get(app: &App, actor: &Actor, week: &str) -> Result<RosterView, AppError> {
    actor.require(Permission::RosterRead)?;
    let week = week_arg(week)?;
    app.store.read(|tx| view_in(tx, actor, &week))
}

fn view_in(tx: &impl Tx, actor: &Actor, week: &str) -> Result<RosterView, AppError> {
    let w = load(tx, week)?;
    let all = users::list(tx)?;
    let name = |id: UserId| all.iter().find(|u| u.id == id);
    let (y, n) = parse_week(week).ok_or_else(|| AppError::invalid("week", "周次无效"))?;
    let mon = roster::monday(y, n).ok_or_else(|| AppError::invalid("week", "周次无效"))?;
    let days: Vec<DayView> = (0..7u8)
        .map(|i| {
            let d = mon
                .checked_add(time::Duration::days(i64::from(i)))
                .unwrap_or(mon);
            DayView {
                index: i,
                date: crate::domain::time::day_string(d),
                label: format!(
                    "{} {:02}-{:02}",
                    WEEKDAYS[usize::from(i)],
                    u8::from(d.month()),
                    d.day()
                ),
            }
        })
        .collect();
    let mut grid = vec![vec![vec![None; usize::from(SEATS)]; w.slots.len()]; 7];
    let mut cells = Vec::new();
    for c in &w.cells {
        let Some(u) = name(c.user) else { continue };
        if let Some(cell) = grid
            .get_mut(usize::from(c.at.day))
            .and_then(|d| d.get_mut(usize::from(c.at.slot)))
            .and_then(|s| s.get_mut(usize::from(c.at.seat).wrapping_sub(1)))
        {
            *cell = Some(person(u));
        }
        cells.push(CellView {
            day: c.at.day,
            slot: c.at.slot,
            seat: c.at.seat,
            user: person(u),
        });
    }
    let lead = actor.role == Role::ShiftLead;
    let swaps: Swaps = meta::get(tx, "roster-swaps")?.unwrap_or_default();
    let mut swap_views = Vec::new();
    for s in swaps.items.iter().rev() {
        let mine = s.requester == actor.id;
        let shown = (lead && (s.state == SwapState::Pending || s.week == week)) || mine;
        if !shown || swap_views.len() >= 50 {
            continue;
        }
        let sw = load(tx, &s.week)?;
        let with = match (&s.with, s.to_user) {
            (Some((wk, at)), _) => {
                let other = load(tx, wk)?;
                let who = other
                    .who(*at)
                    .and_then(name)
                    .map(|u| u.display_name.clone());
                format!(
                    "与 {} 的 {} 对换",
                    who.unwrap_or_default(),
                    place_label(&other, wk, *at)
                )
            }
            (None, Some(u)) => format!(
                "由 {} 代班",
                name(u).map(|u| u.display_name.clone()).unwrap_or_default()
            ),
            _ => String::new(),
        };
        swap_views.push(SwapView {
            id: s.id,
            requester: name(s.requester)
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
            week: s.week.clone(),
            what: place_label(&sw, &s.week, s.at),
            with,
            reason: s.reason.clone(),
            state: s.state,
            state_label: s.state.label(),
            note: s.note.clone(),
            mine,
        });
    }
    let templates: Templates = meta::get(tx, "roster-templates")?.unwrap_or_default();
    Ok(RosterView {
        week: week.to_string(),
        prev: roster::shift_week(week, -1).unwrap_or_default(),
        next: roster::shift_week(week, 1).unwrap_or_default(),
        from: days.first().map(|d| d.date.clone()).unwrap_or_default(),
        to: days.last().map(|d| d.date.clone()).unwrap_or_default(),
        days,
        slots: w.slots.clone(),
        seats: SEATS,
        cells,
        grid,
        version: w.version,
        updated_at: w.updated_at.map(|t| t.display_cst()),
        swaps: swap_views,
        people: all.iter().filter(|u| seatable(u)).map(person).collect(),
        templates: templates.items.iter().map(|t| t.name.clone()).collect(),
    })
}

/// One cell of a plan as sent: the person by username or id, none to leave it empty.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellIn {
    pub day: u8,
    pub slot: u8,
    pub seat: u8,
    #[serde(default)]
    pub user: Option<String>,
}

/// A week's plan as sent (`PUT /api/v1/roster?week=`): the whole grid.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterPut {
    #[serde(default)]
    pub slots: Option<Vec<Slot>>,
    pub cells: Vec<CellIn>,
    #[serde(default)]
    pub version: Option<u64>,
}

fn person_of(tx: &impl Tx, s: &str) -> Result<User, AppError> {
    let s = s.trim();
    let u = match users::by_username(tx, s)? {
        Some(u) => Some(u),
        None => match s.parse::<u64>() {
            Ok(id) => users::get(tx, UserId(id))?,
            Err(_) => None,
        },
    };
    match u {
        Some(u) if seatable(&u) => Ok(u),
        _ => Err(AppError::invalid(
            "user",
            format!("「{s}」不是在岗的话务员或值班长"),
        )),
    }
}

/// Replaces a week's plan (the shift lead).
pub fn put(app: &App, actor: &Actor, week: &str, body: &RosterPut) -> Result<RosterView, AppError> {
    actor.require(Permission::RosterManage)?;
    let week = week_arg(week)?;
    if body.cells.len() > 7 * 4 * usize::from(SEATS) {
        return Err(AppError::invalid("cells", "排班格子过多"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<RosterView, AppError> {
        let old = load(tx, &week)?;
        if body.version.is_some_and(|v| v != old.version) {
            return Err(AppError::conflict(
                "stale_version",
                "排班已被他人修改，请刷新后再改",
            ));
        }
        let mut w = old.clone();
        if let Some(slots) = &body.slots {
            check_slots(slots).map_err(|m| AppError::invalid("slots", m))?;
            w.slots = slots.clone();
        }
        w.cells.clear();
        let mut seen = std::collections::BTreeSet::new();
        for c in &body.cells {
            let at = Place {
                day: c.day,
                slot: c.slot,
                seat: c.seat,
            };
            if !w.holds(at) {
                return Err(AppError::invalid(
                    "cells",
                    format!(
                        "没有这个格子：第 {} 天第 {} 班 {} 号席",
                        c.day, c.slot, c.seat
                    ),
                ));
            }
            if !seen.insert(at) {
                return Err(AppError::invalid("cells", "同一格子排了两次"));
            }
            let Some(name) = c.user.as_deref().filter(|u| !u.trim().is_empty()) else {
                continue;
            };
            let u = person_of(tx, name)?;
            if w.cells
                .iter()
                .any(|x| x.user == u.id && x.at.day == at.day && x.at.slot == at.slot)
            {
                return Err(AppError::invalid(
                    "cells",
                    format!("{} 同一班次不能排在两个席位", u.display_name),
                ));
            }
            w.set(at, Some(u.id));
        }
        save(tx, actor, &mut w, now, "保存排班")?;
        view_in(tx, actor, &week)
    })
}

fn save(
    tx: &WriteTx,
    actor: &Actor,
    w: &mut Week,
    now: Timestamp,
    what: &str,
) -> Result<(), AppError> {
    w.version += 1;
    w.updated_at = Some(now);
    w.updated_by = Some(actor.id);
    meta::put(tx, &key(&w.week), w)?;
    audit::append(
        tx,
        now,
        actor.event(
            "roster.save",
            Some(format!("roster:{}", w.week)),
            format!("{what} {}", w.week),
        ),
    )?;
    Ok(())
}

/// Where a week's plan is copied from.
pub enum Source {
    /// Another week (the week before, usually).
    Week(String),
    Template(String),
}

/// Fills a week from another week or a template (the shift lead).
pub fn copy(app: &App, actor: &Actor, week: &str, from: Source) -> Result<(), AppError> {
    actor.require(Permission::RosterManage)?;
    let week = week_arg(week)?;
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        let (slots, cells, what) = match &from {
            Source::Week(src) => {
                let src = week_arg(src)?;
                let s = load(tx, &src)?;
                (s.slots, s.cells, format!("按 {src} 排班"))
            }
            Source::Template(name) => {
                let all: Templates = meta::get(tx, "roster-templates")?.unwrap_or_default();
                let t = all
                    .items
                    .into_iter()
                    .find(|t| t.name == *name)
                    .ok_or_else(|| AppError::invalid("template", "没有这个排班模板"))?;
                (t.slots, t.cells, format!("套用模板「{name}」"))
            }
        };
        let mut w = load(tx, &week)?;
        w.slots = slots;
        // Whoever has left since is left out.
        let mut kept = Vec::new();
        for c in cells {
            if users::get(tx, c.user)?.is_some_and(|u| seatable(&u)) {
                kept.push(c);
            }
        }
        w.cells = kept;
        save(tx, actor, &mut w, now, &what)
    })
}

/// Keeps a week's plan as a named template (the shift lead).
pub fn save_template(app: &App, actor: &Actor, week: &str, name: &str) -> Result<(), AppError> {
    actor.require(Permission::RosterManage)?;
    let week = week_arg(week)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 16 {
        return Err(AppError::invalid("name", "模板名称须为 1—16 个字"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        let w = load(tx, &week)?;
        let mut all: Templates = meta::get(tx, "roster-templates")?.unwrap_or_default();
        all.items.retain(|t| t.name != name);
        if all.items.len() >= MAX_TEMPLATES {
            return Err(AppError::invalid(
                "name",
                format!("模板最多 {MAX_TEMPLATES} 个，请先删去不用的"),
            ));
        }
        all.items.push(Template {
            name: name.to_string(),
            slots: w.slots,
            cells: w.cells,
        });
        meta::put(tx, "roster-templates", &all)?;
        audit::append(
            tx,
            now,
            actor.event(
                "roster.template",
                None,
                format!("把 {week} 存为排班模板「{name}」"),
            ),
        )?;
        Ok(())
    })
}

/// A swap asked for (`POST /api/v1/roster/swaps`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapIn {
    pub week: String,
    pub day: u8,
    pub slot: u8,
    pub seat: u8,
    /// The other operator's shift to take in exchange…
    #[serde(default)]
    pub with: Option<SwapPlace>,
    /// …or the colleague (username) who takes this one over.
    #[serde(default)]
    pub to_user: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapPlace {
    pub week: String,
    pub day: u8,
    pub slot: u8,
    pub seat: u8,
}

/// An operator asks to swap or hand over one of their own shifts; the shift lead decides.
pub fn request_swap(app: &App, actor: &Actor, s: &SwapIn) -> Result<u64, AppError> {
    actor.require(Permission::RosterSwap)?;
    let week = week_arg(&s.week)?;
    let reason = s.reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 200 {
        return Err(AppError::invalid("reason", "请写明换班原因（2—200 字）"));
    }
    let at = Place {
        day: s.day,
        slot: s.slot,
        seat: s.seat,
    };
    let now = app.now();
    app.store.write(|tx| -> Result<u64, AppError> {
        let w = load(tx, &week)?;
        if w.who(at) != Some(actor.id) {
            return Err(AppError::invalid("slot", "只能为自己的班次申请换班"));
        }
        let (with, to_user) = match (
            &s.with,
            s.to_user.as_deref().filter(|u| !u.trim().is_empty()),
        ) {
            (Some(p), None) => {
                let wk = week_arg(&p.week)?;
                let other = load(tx, &wk)?;
                let place = Place {
                    day: p.day,
                    slot: p.slot,
                    seat: p.seat,
                };
                match other.who(place) {
                    Some(u) if u != actor.id => (Some((wk, place)), None),
                    _ => {
                        return Err(AppError::invalid("with", "对换的班次须是其他同事的班次"));
                    }
                }
            }
            (None, Some(name)) => {
                let u = person_of(tx, name).map_err(|_| {
                    AppError::invalid("to_user", format!("「{name}」不是在岗的话务员"))
                })?;
                if u.id == actor.id {
                    return Err(AppError::invalid("to_user", "代班的须是其他同事"));
                }
                (None, Some(u.id))
            }
            _ => {
                return Err(AppError::invalid(
                    "with",
                    "请选择要对换的同事班次，或选择代班的同事（二选一）",
                ));
            }
        };
        let mut all: Swaps = meta::get(tx, "roster-swaps")?.unwrap_or_default();
        if all
            .items
            .iter()
            .filter(|x| x.state == SwapState::Pending)
            .count()
            >= MAX_PENDING
        {
            return Err(AppError::conflict(
                "too_many",
                "待审批的换班申请过多，请值班长先处理",
            ));
        }
        if all.items.iter().any(|x| {
            x.state == SwapState::Pending && x.requester == actor.id && x.week == week && x.at == at
        }) {
            return Err(AppError::conflict(
                "duplicate",
                "这个班次已有待审批的换班申请",
            ));
        }
        let id = all.items.iter().map(|x| x.id).max().unwrap_or(0) + 1;
        all.items.push(Swap {
            id,
            requester: actor.id,
            week: week.clone(),
            at,
            with,
            to_user,
            reason: reason.to_string(),
            state: SwapState::Pending,
            asked_at: now,
            decided_by: None,
            decided_at: None,
            note: None,
        });
        meta::put(tx, "roster-swaps", &all)?;
        audit::append(
            tx,
            now,
            actor.event(
                "roster.swap",
                Some(format!("roster:{week}")),
                format!("申请换班：{}", place_label(&w, &week, at)),
            ),
        )?;
        Ok(id)
    })
}

/// The shift lead approves (the plan changes at once) or declines a swap.
pub fn decide_swap(
    app: &App,
    actor: &Actor,
    id: u64,
    approve: bool,
    note: Option<&str>,
) -> Result<(), AppError> {
    actor.require(Permission::RosterManage)?;
    let now = app.now();
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(200).collect::<String>());
    app.store.write(|tx| -> Result<(), AppError> {
        let mut all: Swaps = meta::get(tx, "roster-swaps")?.unwrap_or_default();
        let s = all
            .items
            .iter_mut()
            .find(|x| x.id == id)
            .ok_or(AppError::NotFound)?;
        if s.state != SwapState::Pending {
            return Err(AppError::conflict("decided", "该换班申请已审批"));
        }
        if approve {
            let mut w = load(tx, &s.week)?;
            if w.who(s.at) != Some(s.requester) {
                return Err(AppError::conflict(
                    "changed",
                    "申请人已不在该班次，排班已变，请驳回后重新申请",
                ));
            }
            match (&s.with, s.to_user) {
                (Some((wk, place)), _) if *wk == s.week => {
                    let other = w.who(*place).ok_or_else(|| {
                        AppError::conflict("changed", "对换的班次已无人，排班已变")
                    })?;
                    w.set(s.at, Some(other));
                    w.set(*place, Some(s.requester));
                    save(tx, actor, &mut w, now, "同意换班")?;
                }
                (Some((wk, place)), _) => {
                    let mut ow = load(tx, wk)?;
                    let other = ow.who(*place).ok_or_else(|| {
                        AppError::conflict("changed", "对换的班次已无人，排班已变")
                    })?;
                    w.set(s.at, Some(other));
                    ow.set(*place, Some(s.requester));
                    save(tx, actor, &mut w, now, "同意换班")?;
                    save(tx, actor, &mut ow, now, "同意换班")?;
                }
                (None, Some(u)) => {
                    w.set(s.at, Some(u));
                    save(tx, actor, &mut w, now, "同意代班")?;
                }
                (None, None) => return Err(AppError::conflict("changed", "换班申请不完整")),
            }
        }
        s.state = if approve {
            SwapState::Approved
        } else {
            SwapState::Rejected
        };
        s.decided_by = Some(actor.id);
        s.decided_at = Some(now);
        s.note = note;
        let week = s.week.clone();
        // Decided swaps are remembered for a while; pending ones always.
        let decided = all
            .items
            .iter()
            .filter(|x| x.state != SwapState::Pending)
            .count();
        if decided > KEEP_DECIDED {
            let mut drop = decided - KEEP_DECIDED;
            all.items.retain(|x| {
                if drop > 0 && x.state != SwapState::Pending {
                    drop -= 1;
                    false
                } else {
                    true
                }
            });
        }
        meta::put(tx, "roster-swaps", &all)?;
        audit::append(
            tx,
            now,
            actor.event(
                "roster.swap_decide",
                Some(format!("roster:{week}")),
                format!("{}换班申请 #{id}", if approve { "同意" } else { "驳回" }),
            ),
        )?;
        Ok(())
    })
}

/// One of a person's coming shifts.
#[derive(Serialize)]
pub struct MyShift {
    pub date: String,
    pub label: String,
    pub slot: String,
    pub time: String,
    pub seat: u8,
    pub now: bool,
}

/// The actor's shifts from today through the next 13 days.
pub fn my_shifts(app: &App, actor: &Actor) -> Result<Vec<MyShift>, AppError> {
    actor.require(Permission::RosterRead)?;
    let now = app.now();
    let Some((this_week, today, minute)) = roster::locate(now) else {
        return Ok(Vec::new());
    };
    app.store.read(|tx| {
        let mut out = Vec::new();
        for (k, week) in [
            this_week.clone(),
            roster::shift_week(&this_week, 1).unwrap_or_default(),
            roster::shift_week(&this_week, 2).unwrap_or_default(),
        ]
        .iter()
        .enumerate()
        {
            if week.is_empty() {
                continue;
            }
            let w = load(tx, week)?;
            let Some((y, n)) = parse_week(week) else {
                continue;
            };
            let Some(mon) = roster::monday(y, n) else {
                continue;
            };
            for c in w.cells.iter().filter(|c| c.user == actor.id) {
                let offset = k * 7 + usize::from(c.at.day);
                let from_today = offset as i64 - i64::from(today);
                if !(0..14).contains(&from_today) {
                    continue;
                }
                let Some(slot) = w.slots.get(usize::from(c.at.slot)) else {
                    continue;
                };
                let d = mon
                    .checked_add(time::Duration::days(i64::from(c.at.day)))
                    .unwrap_or(mon);
                let running = from_today == 0
                    && slot
                        .minutes()
                        .is_some_and(|(a, b)| a <= minute && minute < b);
                if from_today == 0 && slot.minutes().is_some_and(|(_, b)| b <= minute) {
                    continue;
                }
                out.push(MyShift {
                    date: crate::domain::time::day_string(d),
                    label: format!(
                        "{} {:02}-{:02}",
                        WEEKDAYS[usize::from(c.at.day)],
                        u8::from(d.month()),
                        d.day()
                    ),
                    slot: slot.name.clone(),
                    time: format!("{}—{}", slot.start, slot.end),
                    seat: c.at.seat,
                    now: running,
                });
            }
        }
        out.sort_by(|a, b| (&a.date, &a.time).cmp(&(&b.date, &b.time)));
        Ok(out)
    })
}

/// Who is planned on each seat now, for the seat board: (seat, name).
pub fn planned_now(tx: &impl Tx, now: Timestamp) -> Result<Vec<(u8, String)>, AppError> {
    let Some((week, day, minute)) = roster::locate(now) else {
        return Ok(Vec::new());
    };
    let w = load(tx, &week)?;
    let Some(slot) = w.slot_at(minute) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for c in w
        .cells
        .iter()
        .filter(|c| c.at.day == day && c.at.slot == slot)
    {
        if let Some(u) = users::get(tx, c.user)? {
            out.push((c.at.seat, u.display_name));
        }
    }
    Ok(out)
}

/// Who is planned on each seat now (the shift lead's board).
pub fn planned(app: &App, actor: &Actor) -> Result<Vec<(u8, String)>, AppError> {
    actor.require(Permission::RosterManage)?;
    let now = app.now();
    app.store.read(|tx| planned_now(tx, now))
}

/// The week a moment falls in.
pub fn this_week(app: &App) -> String {
    roster::locate(app.now())
        .map(|(w, _, _)| w)
        .unwrap_or_else(|| "2026-W01".into())
}

/// A week's plan as a table (XLSX and print): a row a day and shift, a column a seat.
pub fn table(v: &RosterView) -> crate::service::reports::table::Table {
    use crate::service::reports::table::{Cell, Column, Table};
    let mut columns = vec![
        Column {
            name: "日期",
            width: 14,
        },
        Column {
            name: "班次",
            width: 16,
        },
    ];
    let seat_names = ["1 号席", "2 号席", "3 号席", "4 号席"];
    for n in seat_names.iter().take(usize::from(v.seats)) {
        columns.push(Column { name: n, width: 12 });
    }
    let mut rows = Vec::new();
    for d in &v.days {
        for (i, s) in v.slots.iter().enumerate() {
            let mut row = vec![
                Cell::text(d.label.clone()),
                Cell::text(format!("{} {}—{}", s.name, s.start, s.end)),
            ];
            for seat in 0..usize::from(v.seats) {
                let who = v
                    .grid
                    .get(usize::from(d.index))
                    .and_then(|x| x.get(i))
                    .and_then(|x| x.get(seat))
                    .and_then(Option::as_ref)
                    .map(|p| p.display_name.clone());
                row.push(who.map_or(Cell::Empty, Cell::text));
            }
            rows.push(row);
        }
    }
    Table {
        title: format!("值班排班表 {}（{} 至 {}）", v.week, v.from, v.to),
        columns,
        rows,
    }
}
