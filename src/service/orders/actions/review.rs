//! The shift lead's (and supervisor's) decisions: 退单审核, 延期审核, 答复审核, 审结.

use serde::Deserialize;

use super::{Step, lapse_pending_extensions, optional};
use crate::domain::calendar::Deadline;
use crate::domain::order::{Event, Params};
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::service::orders::OrderConfig;
use crate::store::orders;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    approve: bool,
    #[serde(default)]
    note: Option<String>,
}

pub(super) fn decide_return(s: &mut Step) -> Result<Event, AppError> {
    let b: DecideBody = s.body()?;
    let note = optional("note", "审核意见", &b.note, 1000)?;
    let now = s.now;
    let r = s.round()?;
    let ret = r
        .returns
        .iter_mut()
        .rev()
        .find(|x| x.approved.is_none())
        .ok_or_else(|| AppError::conflict("no_pending_return", "没有待审核的退单"))?;
    ret.approved = Some(b.approve);
    ret.decided_at = Some(now);
    ret.note = note.clone();
    let previous = ret.from_state;
    if b.approve {
        r.finished_at = Some(now);
        lapse_pending_extensions(r, now);
    }
    s.branch(b.approve, Some(previous));
    let params = Params {
        approve: Some(b.approve),
        ..Params::default()
    };
    Ok(Event::new(params, note.unwrap_or_default()))
}

pub(super) fn decide_extension(s: &mut Step) -> Result<Event, AppError> {
    let b: DecideBody = s.body()?;
    let note = optional("note", "审核意见", &b.note, 1000)?;
    let (now, by, bound, calendar) = (s.now, s.actor.id, s.o.external_due, &s.cfg.calendar);
    let r = s.round()?;
    let handle = r.handle;
    let ext = r
        .extensions
        .iter_mut()
        .rev()
        .find(|e| e.approved.is_none())
        .ok_or_else(|| AppError::conflict("no_pending_extension", "没有待审核的延期申请"))?;
    ext.approved = Some(b.approve);
    ext.decided_at = Some(now);
    ext.decided_by = Some(by);
    ext.note = note.clone();
    let days = ext.days;
    let mut params = Params {
        days: Some(days),
        approve: Some(b.approve),
        ..Params::default()
    };
    if !b.approve {
        return Ok(Event::new(params, note.unwrap_or_default()));
    }
    let h: Deadline = handle.ok_or_else(|| AppError::conflict("not_signed", "工单尚未签收"))?;
    // Never past the platform's own deadline.
    let moved = calendar.extend(h, days).bounded(bound);
    r.handle = Some(moved);
    params.capped = bound.is_some_and(|b| moved.due == b);
    params.due = Some(moved.due);
    Ok(Event::new(params, note.unwrap_or_default()))
}

/// The callback deadline: the end of the next working day(s) after `from`, with its last
/// quarter due-soon.
pub(super) fn callback_deadline(cfg: &OrderConfig, from: Timestamp) -> Deadline {
    let due = cfg
        .calendar
        .end_of_working_day_after(from, cfg.limits.callback_days);
    Deadline {
        start: from,
        soon_at: Timestamp(from.0 + (due.0 - from.0) * 3 / 4),
        due,
    }
}

pub(super) fn review_reply(s: &mut Step) -> Result<Event, AppError> {
    let b: DecideBody = s.body()?;
    let note = optional("note", "审核意见", &b.note, 1000)?;
    if !b.approve && note.is_none() {
        return Err(AppError::invalid("note", "退回重新答复时请写明原因"));
    }
    let r = s.round()?;
    if let Some(reply) = r.replies.last_mut() {
        reply.approved = Some(b.approve);
        reply.review_note = note.clone();
    }
    if !b.approve {
        r.finished_at = None;
    }
    s.branch(b.approve, None);
    if !b.approve {
        let params = Params {
            approve: Some(false),
            ..Params::default()
        };
        return Ok(Event::new(params, note.unwrap_or_default()));
    }
    let deadline = callback_deadline(s.cfg, s.now);
    s.o.callback_due = Some(deadline);
    let told = super::screening::master_reply(s.o);
    // The callers of orders merged into this one get its reply and a callback each.
    let merged = s.o.flags.merged_from.clone();
    for id in merged {
        let Some(old) = orders::get(s.tx, id)? else {
            continue;
        };
        let mut child = old.clone();
        child.merged_reply = told.clone();
        child.flags.callback_pending = true;
        child.callback_due = Some(deadline);
        child.version += 1;
        child.updated_at = s.now;
        child.push_timeline(
            s.now,
            s.actor.id,
            &s.actor.display_name,
            s.actor.role,
            "merged_reply",
            Event::of(Params {
                order: Some(s.o.number.clone()),
                ..Params::default()
            }),
        );
        orders::put(s.tx, Some(&old), &child)?;
    }
    Ok(Event::new(
        Params {
            approve: Some(true),
            due: Some(deadline.due),
            ..Params::default()
        },
        note.unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

pub(super) fn close(s: &mut Step) -> Result<Event, AppError> {
    let b: NoteBody = s.body()?;
    let note = optional("note", "审结意见", &Some(b.note), 1000)?;
    s.o.closure = Some(crate::domain::order::ClosureKind::Reviewed);
    s.o.closed_at = Some(s.now);
    Ok(Event::note(note.unwrap_or_default()))
}
