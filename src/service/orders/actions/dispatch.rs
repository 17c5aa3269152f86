//! Rounds: 派单, 发回重办, and QA's proposal to reopen with the shift lead's decision.

use serde::Deserialize;

use super::{Step, active_unit, lapse_pending_extensions, optional, required};
use crate::domain::calendar::Span;
use crate::domain::order::{CoPart, Event, Order, Params, ReopenProposal, Round};
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::service::orders::OrderConfig;
use crate::service::users::UnitRef;

#[allow(clippy::too_many_arguments)]
fn new_round(
    o: &Order,
    cfg: &OrderConfig,
    unit: UnitId,
    co: Vec<UnitId>,
    now: Timestamp,
    by: UserId,
    handle_days: Option<u32>,
) -> Result<Round, AppError> {
    let sign = cfg
        .calendar
        .deadline(now, cfg.limits.sign(o.urgency))
        .bounded(o.external_due);
    let mut handle_span = cfg.limits.handle(o.kind, o.urgency, o.line);
    if let Some(d) = handle_days {
        match handle_span {
            Span::WorkingDays(max) if d >= 1 && d <= max => {
                handle_span = Span::WorkingDays(d);
            }
            _ => {
                return Err(AppError::invalid(
                    "handle_days",
                    "办理时限只能缩短，不能超过默认时限",
                ));
            }
        }
    }
    let co_parts = co
        .iter()
        .map(|u| CoPart {
            unit: *u,
            signed_at: None,
            due: None,
            opinions: Vec::new(),
        })
        .collect();
    Ok(Round {
        no: o.rounds.len() as u32 + 1,
        unit,
        co_units: co,
        dispatched_at: now,
        dispatched_by: by,
        sign,
        handle_span,
        handle: None,
        signed_at: None,
        extensions: Vec::new(),
        returns: Vec::new(),
        replies: Vec::new(),
        progress: Vec::new(),
        urges: 0,
        finished_at: None,
        co_parts,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchBody {
    unit: UnitRef,
    #[serde(default)]
    co_units: Vec<UnitRef>,
    /// A shorter handling limit in working days than the default.
    #[serde(default)]
    handle_days: Option<u32>,
    #[serde(default)]
    note: Option<String>,
}

pub(super) fn dispatch(s: &mut Step) -> Result<Event, AppError> {
    let b: DispatchBody = s.body()?;
    let unit = active_unit(s.tx, &b.unit)?;
    let mut co = Vec::new();
    for r in &b.co_units {
        let u = active_unit(s.tx, r).map_err(|e| match e {
            AppError::Invalid { message, .. } => {
                let named = match r {
                    UnitRef::Code(c) => format!("协办单位「{}」：{message}", c.trim()),
                    UnitRef::Id(n) => format!("协办单位 {n}：{message}"),
                };
                AppError::invalid("co_units", named)
            }
            e => e,
        })?;
        if u != unit && !co.contains(&u) {
            co.push(u);
        }
    }
    let note = optional("note", "派单说明", &b.note, 1000)?;
    let round = new_round(
        s.o,
        s.cfg,
        unit,
        co.clone(),
        s.now,
        s.actor.id,
        b.handle_days,
    )?;
    let params = Params::round_start(&round);
    s.o.rounds.push(round);
    Ok(Event::new(params, note.unwrap_or_default()))
}

/// A new round for the same units (or the one chosen), the old one's pending requests ended.
fn start_again(s: &mut Step, unit: Option<UnitId>) -> Result<Params, AppError> {
    let last = s.o.current_round().map(|r| (r.unit, r.co_units.clone()));
    let (unit, co) = match (unit, last) {
        (Some(u), _) => (u, Vec::new()),
        (None, Some((u, co))) => (u, co),
        (None, None) => return Err(AppError::invalid("unit", "请选择承办单位")),
    };
    let now = s.now;
    if let Some(r) = s.o.current_round_mut() {
        lapse_pending_extensions(r, now);
    }
    let round = new_round(s.o, s.cfg, unit, co, now, s.actor.id, None)?;
    let mut params = Params::round_start(&round);
    s.o.rounds.push(round);
    s.o.flags.reopen_count += 1;
    s.o.flags.reopen_proposal = None;
    params.count = Some(s.o.flags.reopen_count);
    Ok(params)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReopenBody {
    reason: String,
    #[serde(default)]
    unit: Option<UnitRef>,
}

pub(super) fn reopen(s: &mut Step) -> Result<Event, AppError> {
    let b: ReopenBody = s.body()?;
    let reason = required("reason", "重办理由", &b.reason, 1000)?;
    let unit = match &b.unit {
        Some(r) => Some(active_unit(s.tx, r)?),
        None => None,
    };
    let params = start_again(s, unit)?;
    Ok(Event::new(params, reason))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposeBody {
    reason: String,
}

/// QA, after calling the citizen back, proposes to reopen; the shift lead decides.
pub(super) fn propose_reopen(s: &mut Step) -> Result<Event, AppError> {
    let b: ProposeBody = s.body()?;
    let reason = required("reason", "建议重办的理由", &b.reason, 1000)?;
    s.o.flags.reopen_proposal = Some(ReopenProposal {
        reason: reason.clone(),
        by: s.actor.id,
        by_name: s.actor.display_name.clone(),
        at: s.now,
    });
    Ok(Event::note(reason))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideReopenBody {
    approve: bool,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    unit: Option<UnitRef>,
}

pub(super) fn decide_reopen(s: &mut Step) -> Result<Event, AppError> {
    let b: DecideReopenBody = s.body()?;
    let note = optional("note", "审核意见", &b.note, 1000)?;
    if s.o.flags.reopen_proposal.is_none() {
        return Err(AppError::conflict("no_proposal", "没有待审核的重办建议"));
    }
    if !b.approve {
        let Some(note) = note else {
            return Err(AppError::invalid("note", "不采纳重办建议时请写明理由"));
        };
        s.o.flags.reopen_proposal = None;
        s.branch(false, None);
        let params = Params {
            approve: Some(false),
            ..Params::default()
        };
        return Ok(Event::new(params, note));
    }
    // The unit is told why in the shift lead's own words (QA's note is the centre's).
    let Some(note) = note else {
        return Err(AppError::invalid(
            "note",
            "请写明发回重办的理由（将告知承办单位）",
        ));
    };
    let unit = match &b.unit {
        Some(r) => Some(active_unit(s.tx, r)?),
        None => None,
    };
    let params = start_again(s, unit)?;
    s.branch(true, None);
    Ok(Event::new(params, note))
}
