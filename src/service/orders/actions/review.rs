//! The shift lead's (and supervisor's) decisions: 退单审核, 延期审核, 答复审核, 审结.

use serde::Deserialize;

use super::{Step, colon, lapse_pending_extensions, optional};
use crate::domain::calendar::Deadline;
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

pub(super) fn decide_return(s: &mut Step) -> Result<String, AppError> {
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
    let verdict = if b.approve {
        "同意退单，工单回到待派单"
    } else {
        "不同意退单，退回承办单位继续办理"
    };
    Ok(format!("{verdict}{}", colon(note)))
}

pub(super) fn decide_extension(s: &mut Step) -> Result<String, AppError> {
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
    if !b.approve {
        return Ok(format!("不同意延期{}", colon(note)));
    }
    let h: Deadline = handle.ok_or_else(|| AppError::conflict("not_signed", "工单尚未签收"))?;
    // Never past the platform's own deadline.
    let moved = calendar.extend(h, days).bounded(bound);
    r.handle = Some(moved);
    let capped = bound.is_some_and(|b| moved.due == b);
    Ok(format!(
        "同意延期 {days} 个工作日，新办理时限 {}{}",
        moved.due.display_cst(),
        if capped {
            "（以平台规定的期限为限）"
        } else {
            ""
        }
    ))
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

pub(super) fn review_reply(s: &mut Step) -> Result<String, AppError> {
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
        return Ok(format!("答复退回重新办理：{}", note.unwrap_or_default()));
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
            format!("主工单 {} 已答复，待回访本件来电人", s.o.number),
        );
        orders::put(s.tx, Some(&old), &child)?;
    }
    Ok(format!(
        "答复审核通过，请于 {} 前回访",
        deadline.due.display_cst()
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

pub(super) fn close(s: &mut Step) -> Result<String, AppError> {
    let b: NoteBody = s.body()?;
    let note = optional("note", "审结意见", &Some(b.note), 1000)?;
    s.o.closure = Some(crate::domain::order::ClosureKind::Reviewed);
    s.o.closed_at = Some(s.now);
    Ok(format!("审结{}", colon(note)))
}
