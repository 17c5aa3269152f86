//! Screening at the desk: 不予受理, 直接办结, 并单 and 撤单.

use serde::Deserialize;
use serde_json::Value;

use super::{Step, lapse_pending_extensions, required};
use crate::domain::order::{ClosureKind, Event, Order, Params};
use crate::domain::order_state::State;
use crate::error::AppError;
use crate::store::orders;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason_code: u8,
    #[serde(default)]
    note: String,
    /// For code 3: the emergency number that took the call.
    #[serde(default)]
    transferred_to: Option<String>,
}

pub(super) fn reject(s: &mut Step) -> Result<Event, AppError> {
    let b: RejectBody = s.body()?;
    if !(1..=10).contains(&b.reason_code) {
        return Err(AppError::invalid(
            "reason_code",
            "不予受理的理由代码应为 1–10",
        ));
    }
    let note = b.note.trim().to_string();
    if b.reason_code == 10 && note.is_empty() {
        return Err(AppError::invalid("note", "选择“其他”时请写明理由"));
    }
    if note.chars().count() > 1000 {
        return Err(AppError::invalid("note", "说明不能超过 1000 个字"));
    }
    // Code 3: which emergency number took the call is part of the record.
    let transfer = match (b.reason_code, b.transferred_to.as_deref().map(str::trim)) {
        (3, Some(n @ ("110" | "119" | "120" | "122"))) => Some(n.to_string()),
        (3, _) => {
            return Err(AppError::invalid(
                "transferred_to",
                "请选择已告知或转接的紧急电话：110、119、120 或 122",
            ));
        }
        _ => None,
    };
    // What the caller was told: the office's script for the code, and the note.
    let script = crate::service::screening_settings::script_for(s.tx, b.reason_code)?;
    let told = if note.is_empty() {
        script
    } else {
        format!("{script}（{note}）")
    };
    let o = &mut *s.o;
    o.reject_code = Some(b.reason_code);
    o.reject_transfer = transfer.clone();
    o.reject_told = Some(told.clone());
    o.closed_at = Some(s.now);
    if b.reason_code == 9 {
        crate::store::blacklist::add_incident(s.tx, &o.caller.phone, s.now, o.id)?;
    }
    let params = Params {
        reason_code: Some(b.reason_code),
        transfer,
        ..Params::default()
    };
    Ok(Event::new(params, note))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    reply: String,
    #[serde(default)]
    articles: Vec<u64>,
}

pub(super) fn answer(s: &mut Step) -> Result<Event, AppError> {
    let b: AnswerBody = s.body()?;
    let reply = required("reply", "答复内容", &b.reply, 5000)?;
    let mut cited = Vec::new();
    for id in &b.articles {
        let a = crate::store::kb::get(s.tx, *id)?
            .ok_or_else(|| AppError::invalid("articles", format!("知识库文章 {id} 不存在")))?;
        cited.push((a.id, a.version));
    }
    let o = &mut *s.o;
    o.answer = Some(reply.clone());
    o.cited = cited;
    o.articles = b.articles;
    o.closure = Some(ClosureKind::Direct);
    o.closed_at = Some(s.now);
    Ok(Event::note(reply))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    into: Value,
}

/// The reply a caller of a merged order is told: the master's direct answer, or its
/// approved reply (the public text when there is one).
pub(super) fn master_reply(master: &Order) -> Option<String> {
    if master.closure == Some(ClosureKind::Direct) {
        return master.answer.clone();
    }
    master
        .rounds
        .iter()
        .rev()
        .flat_map(|r| r.replies.iter().rev())
        .find(|r| r.approved == Some(true))
        .map(|r| r.public_reply.clone().unwrap_or_else(|| r.result.clone()))
}

pub(super) fn merge(s: &mut Step) -> Result<Event, AppError> {
    let b: MergeBody = s.body()?;
    let key = match &b.into {
        Value::Number(n) => n.to_string(),
        Value::String(k) => k.clone(),
        _ => return Err(AppError::invalid("into", "请指定主工单")),
    };
    let master_id = super::super::resolve(s.tx, &key)?
        .ok_or_else(|| AppError::invalid("into", "主工单不存在"))?;
    if master_id == s.o.id {
        return Err(AppError::invalid("into", "不能并入工单自身"));
    }
    let old_master =
        orders::get(s.tx, master_id)?.ok_or_else(|| AppError::invalid("into", "主工单不存在"))?;
    if matches!(
        old_master.state,
        State::Merged | State::Rejected | State::Withdrawn
    ) {
        return Err(AppError::invalid(
            "into",
            "主工单已并单、不予受理或撤单，不能作为主工单",
        ));
    }
    let mut master = old_master.clone();
    master.flags.merged_from.push(s.o.id);
    master.flags.repeat_calls += 1;
    master.version += 1;
    master.updated_at = s.now;
    master.push_timeline(
        s.now,
        s.actor.id,
        &s.actor.display_name,
        s.actor.role,
        "merged_in",
        Event::of(Params {
            order: Some(s.o.number.clone()),
            ..Params::default()
        }),
    );
    orders::put(s.tx, Some(&old_master), &master)?;
    let o = &mut *s.o;
    o.flags.merged_into = Some(master_id);
    o.closed_at = Some(s.now);
    // Merged into an order already answered: this caller is told that answer at a callback.
    if let Some(reply) = master_reply(&master) {
        o.merged_reply = Some(reply);
        o.flags.callback_pending = true;
        o.callback_due = Some(super::review::callback_deadline(s.cfg, s.now));
    }
    Ok(Event::of(Params {
        order: Some(master.number),
        ..Params::default()
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

pub(super) fn withdraw(s: &mut Step) -> Result<Event, AppError> {
    let b: NoteBody = s.body()?;
    let note = required("note", "撤单说明", &b.note, 1000)?;
    let now = s.now;
    s.o.closed_at = Some(now);
    if let Some(r) = s.o.current_round_mut() {
        r.finished_at.get_or_insert(now);
        lapse_pending_extensions(r, now);
    }
    Ok(Event::note(note))
}
