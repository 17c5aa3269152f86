//! What a unit does with an order: 签收, 退单, 申请延期, 中途汇报, 答复, and as a co-unit
//! 协办签收 and 协办意见.

use serde::Deserialize;

use super::{Step, lapse_pending_extensions, optional, required};
use crate::domain::calendar::Span;
use crate::domain::order::{
    CoOpinion, Contact, Event, Extension, Order, Params, Reply, Resolved, Return, Round,
};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::service::orders::OrderConfig;

/// The shortest reply the server accepts: a sentence, not "已办".
pub const MIN_REPLY_CHARS: usize = 10;

/// Whether a unit may still return the round (退单 within its window after dispatch).
pub(super) fn within_return_window(r: &Round, cfg: &OrderConfig, now: Timestamp) -> bool {
    cfg.calendar.working_days_between(r.dispatched_at, now)
        <= f64::from(cfg.limits.return_window_days)
}

/// Why no (further) extension may be asked for in this round, if it may not.
pub(super) fn extension_refusal(
    o: &Order,
    r: &Round,
    cfg: &OrderConfig,
    now: Timestamp,
) -> Option<AppError> {
    let max = cfg.limits.max_extensions_per_round;
    if r.extensions.len() as u32 >= max {
        return Some(AppError::conflict(
            "extension_limit",
            format!(
                "本轮办理已申请延期 {} 次，已达上限（{max} 次）",
                r.extensions.len()
            ),
        ));
    }
    if r.handle.is_some_and(|h| now > h.due) {
        return Some(AppError::conflict(
            "deadline_passed",
            "已超过办理时限，不能再申请延期",
        ));
    }
    if let (Some(h), Some(bound)) = (r.handle, o.external_due)
        && h.due >= bound
    {
        return Some(AppError::conflict(
            "platform_deadline",
            format!(
                "办理时限已到平台规定的期限（{}），不能延期",
                bound.display_cst()
            ),
        ));
    }
    None
}

pub(super) fn sign(s: &mut Step) -> Result<Event, AppError> {
    let (now, external_due, calendar) = (s.now, s.o.external_due, &s.cfg.calendar);
    let r = s.round()?;
    r.signed_at = Some(now);
    let handle = calendar.deadline(now, r.handle_span).bounded(external_due);
    r.handle = Some(handle);
    Ok(Event::of(Params {
        due: Some(handle.due),
        ..Params::default()
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnBody {
    reason: String,
    #[serde(default)]
    basis: Option<String>,
}

pub(super) fn return_order(s: &mut Step) -> Result<Event, AppError> {
    let b: ReturnBody = s.body()?;
    let reason = required("reason", "退单理由", &b.reason, 1000)?;
    let basis = optional("basis", "依据", &b.basis, 1000)?;
    let (from_state, now, by) = (s.o.state, s.now, s.actor.id);
    s.round()?.returns.push(Return {
        reason: reason.clone(),
        basis,
        at: now,
        by,
        from_state,
        approved: None,
        decided_at: None,
        note: None,
    });
    Ok(Event::note(reason))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionBody {
    days: u32,
    reason: String,
}

pub(super) fn request_extension(s: &mut Step) -> Result<Event, AppError> {
    let b: ExtensionBody = s.body()?;
    let max = s.cfg.limits.max_extension_days;
    if b.days == 0 || b.days > max {
        return Err(AppError::invalid(
            "days",
            format!("延期天数应为 1–{max} 个工作日"),
        ));
    }
    let reason = required("reason", "延期理由", &b.reason, 1000)?;
    let (now, by) = (s.now, s.actor.id);
    s.round()?.extensions.push(Extension {
        days: b.days,
        reason: reason.clone(),
        requested_at: now,
        requested_by: by,
        approved: None,
        decided_at: None,
        decided_by: None,
        note: None,
    });
    let params = Params {
        days: Some(b.days),
        ..Params::default()
    };
    Ok(Event::new(params, reason))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

pub(super) fn progress(s: &mut Step) -> Result<Event, AppError> {
    let b: NoteBody = s.body()?;
    let note = required("note", "汇报内容", &b.note, 2000)?;
    let (now, by) = (s.now, s.actor.id);
    s.round()?.progress.push((now, by, note.clone()));
    Ok(Event::note(note))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Contacted {
    Flag(bool),
    Detail {
        contacted: bool,
        #[serde(default)]
        at: Option<String>,
        #[serde(default)]
        how: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    result: String,
    resolved: Resolved,
    contacted: Contacted,
    #[serde(default)]
    contacted_at: Option<String>,
    #[serde(default)]
    contact_method: Option<String>,
    #[serde(default)]
    public_reply: Option<String>,
}

/// When the unit contacted the caller: a real time, not in the future, written back as
/// `YYYY-MM-DD HH:MM` in Beijing time.
fn contact_time(v: &Option<String>, now: Timestamp) -> Result<Option<String>, AppError> {
    let Some(s) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let t = Timestamp::parse_local(s).ok_or_else(|| {
        AppError::invalid(
            "contacted_at",
            "联系时间应为 YYYY-MM-DD HH:MM，如 2026-11-30 15:00",
        )
    })?;
    if t > now.plus_secs(600) {
        return Err(AppError::invalid("contacted_at", "联系时间不能晚于现在"));
    }
    Ok(Some(t.display_cst().chars().take(16).collect()))
}

pub(super) fn reply(s: &mut Step) -> Result<Event, AppError> {
    let b: ReplyBody = s.body()?;
    let result = required("result", "办理结果", &b.result, 5000)?;
    if result.chars().count() < MIN_REPLY_CHARS {
        return Err(AppError::invalid(
            "result",
            format!("办理结果至少 {MIN_REPLY_CHARS} 个字：请写明办理经过和结果"),
        ));
    }
    let (contacted, at, how) = match b.contacted {
        Contacted::Flag(c) => (c, b.contacted_at, b.contact_method),
        Contacted::Detail { contacted, at, how } => {
            (contacted, at.or(b.contacted_at), how.or(b.contact_method))
        }
    };
    let contact = Contact {
        contacted,
        at: contact_time(&at, s.now)?,
        how: optional("contact_method", "联系方式", &how, 64)?,
    };
    let public_reply = optional("public_reply", "公开答复", &b.public_reply, 5000)?;
    let on_behalf = s.actor.role == Role::ShiftLead;
    let (now, by) = (s.now, s.actor.id);
    let r = s.round()?;
    r.replies.push(Reply {
        result: result.clone(),
        resolved: b.resolved,
        contact,
        public_reply,
        at: now,
        by,
        on_behalf,
        approved: None,
        review_note: None,
    });
    r.finished_at = Some(now);
    lapse_pending_extensions(r, now);
    let params = Params {
        resolved: Some(b.resolved),
        on_behalf,
        ..Params::default()
    };
    Ok(Event::new(params, result))
}

/// A co-unit's span: the main unit's, one working day shorter, so its opinion is in before
/// the reply is due.
fn co_span(main: Span) -> Span {
    match main {
        Span::WorkingDays(d) => Span::WorkingDays(d.saturating_sub(1).max(1)),
        Span::Minutes(m) => Span::Minutes(m * 3 / 4),
    }
}

pub(super) fn co_sign(s: &mut Step) -> Result<Event, AppError> {
    let unit = s.actor.unit.ok_or(AppError::Forbidden)?;
    let (now, external_due, calendar) = (s.now, s.o.external_due, &s.cfg.calendar);
    let r = s.round()?;
    let span = co_span(r.handle_span);
    let main_due = r.handle.map(|h| h.due);
    let part = r.co_part_mut(unit).ok_or(AppError::Forbidden)?;
    let due = calendar
        .deadline(now, span)
        .bounded(external_due)
        .bounded(main_due);
    part.signed_at = Some(now);
    part.due = Some(due);
    Ok(Event::of(Params {
        unit: Some(unit),
        due: Some(due.due),
        ..Params::default()
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpinionBody {
    #[serde(default)]
    note: String,
}

pub(super) fn co_opinion(s: &mut Step) -> Result<Event, AppError> {
    let b: OpinionBody = s.body()?;
    let text = required("note", "协办意见", &b.note, 2000)?;
    let unit = s.actor.unit.ok_or(AppError::Forbidden)?;
    let (now, by) = (s.now, s.actor.id);
    s.round()?
        .co_part_mut(unit)
        .ok_or(AppError::Forbidden)?
        .opinions
        .push(CoOpinion {
            at: now,
            by,
            text: text.clone(),
        });
    Ok(Event::new(Params::unit(Some(unit)), text))
}
