//! Taking an action on an order: the table in `order_state` decides who and when; this
//! module checks the finer conditions, applies the fields, and writes the order, its
//! indexes, its timeline and the audit entry in one transaction.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{config, load_visible};
use crate::domain::calendar::Deadline;
use crate::domain::order::{
    Callback, ClosureKind, Contact, Extension, Order, OrderId, Reply, Resolved, Return, Round,
    Satisfaction,
};
use crate::domain::order_state::{Action, Next, Refusal, State, Target, transition};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
use crate::error::AppError;
use crate::service::users::{UnitRef, resolve_unit};
use crate::service::{Actor, App};
use crate::store::{Tx, WriteTx, audit, orders, units};

/// The finer conditions beyond the state table, so the page offers only what will work.
pub fn applies(
    o: &Order,
    actor: &Actor,
    a: Action,
    cfg: &super::OrderConfig,
    now: Timestamp,
) -> bool {
    let round = o.current_round();
    let own_round = || round.is_some_and(|r| Some(r.unit) == actor.unit);
    let pending_ext = round.is_some_and(|r| r.extensions.iter().any(|e| e.approved.is_none()));
    match a {
        Action::Sign | Action::Progress => own_round(),
        Action::Return => own_round() && round.is_some_and(|r| within_return_window(r, cfg, now)),
        Action::Reply => actor.role == Role::ShiftLead || own_round(),
        Action::RequestExtension => {
            own_round()
                && !pending_ext
                && round.is_some_and(|r| extension_refusal(o, r, cfg, now).is_none())
        }
        Action::DecideExtension => pending_ext,
        Action::Callback => o.state != State::Closed || o.closure == Some(ClosureKind::Direct),
        _ => true,
    }
}

/// Whether a unit may still return the round (退单 within its window after dispatch).
fn within_return_window(r: &Round, cfg: &super::OrderConfig, now: Timestamp) -> bool {
    cfg.calendar.working_days_between(r.dispatched_at, now)
        <= f64::from(cfg.limits.return_window_days)
}

/// Why no (further) extension may be asked for in this round, if it may not.
fn extension_refusal(
    o: &Order,
    r: &Round,
    cfg: &super::OrderConfig,
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

/// A pending extension request ends with the round it belongs to.
fn lapse_pending_extensions(r: &mut Round, now: Timestamp) {
    for e in r.extensions.iter_mut().filter(|e| e.approved.is_none()) {
        e.approved = Some(false);
        e.decided_at = Some(now);
        e.note = Some("本轮办理已结束，延期申请自动失效".into());
    }
}

/// The shortest reply the server accepts: a sentence, not "已办".
pub const MIN_REPLY_CHARS: usize = 10;

fn parse<T: DeserializeOwned>(body: &Value) -> Result<T, AppError> {
    let mut b = body.clone();
    if let Some(m) = b.as_object_mut() {
        m.remove("version");
    }
    serde_json::from_value(b).map_err(|e| AppError::invalid("body", format!("字段无效：{e}")))
}

fn required(field: &'static str, label: &str, v: &str, max: usize) -> Result<String, AppError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(AppError::invalid(field, format!("请填写{label}")));
    }
    if t.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    Ok(t.to_string())
}

fn optional(
    field: &'static str,
    label: &str,
    v: &Option<String>,
    max: usize,
) -> Result<Option<String>, AppError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => required(field, label, s, max).map(Some),
        None => Ok(None),
    }
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    reply: String,
    #[serde(default)]
    articles: Vec<u64>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnBody {
    reason: String,
    #[serde(default)]
    basis: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    approve: bool,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionBody {
    days: u32,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    satisfaction: Satisfaction,
    #[serde(default)]
    resolved: Option<Resolved>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReopenBody {
    reason: String,
    #[serde(default)]
    unit: Option<UnitRef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuperviseBody {
    #[serde(default)]
    level: Option<String>,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    into: Value,
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

/// Unreachable callbacks before the attempt cycle ends.
pub const CALLBACK_ATTEMPTS: usize = 3;

fn wrong_state(o: &Order, a: Action) -> AppError {
    AppError::conflict(
        "wrong_state",
        format!("工单当前为「{}」，不能{}", o.state.label(), a.label()),
    )
}

fn active_unit(tx: &impl Tx, r: &UnitRef) -> Result<UnitId, AppError> {
    let id = resolve_unit(tx, r)?;
    match units::get(tx, id)? {
        Some(u) if !u.disabled => Ok(id),
        _ => Err(AppError::invalid("unit", "该承办单位已停用")),
    }
}

#[allow(clippy::too_many_arguments)]
fn new_round(
    o: &Order,
    cfg: &super::OrderConfig,
    no: u32,
    unit: UnitId,
    co: Vec<UnitId>,
    now: Timestamp,
    by: crate::domain::user::UserId,
    handle_days: Option<u32>,
) -> Result<Round, AppError> {
    let sign = cfg
        .calendar
        .deadline(now, cfg.limits.sign(o.urgency))
        .bounded(o.external_due);
    let mut handle_span = cfg.limits.handle(o.kind, o.urgency, o.line);
    if let Some(d) = handle_days {
        match handle_span {
            crate::domain::calendar::Span::WorkingDays(max) if d >= 1 && d <= max => {
                handle_span = crate::domain::calendar::Span::WorkingDays(d);
            }
            _ => {
                return Err(AppError::invalid(
                    "handle_days",
                    "办理时限只能缩短，不能超过默认时限",
                ));
            }
        }
    }
    Ok(Round {
        no,
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
    })
}

fn round_mut(o: &mut Order) -> Result<&mut Round, AppError> {
    o.current_round_mut()
        .ok_or_else(|| AppError::conflict("no_round", "工单尚未派单"))
}

/// Applies `action` with its JSON `body`; returns the order as stored.
pub fn act(
    app: &App,
    actor: &Actor,
    id: OrderId,
    action: Action,
    body: Value,
) -> Result<Order, AppError> {
    let now = app.now();
    app.store.write(|tx| -> Result<Order, AppError> {
        let old = load_visible(tx, actor, id)?;
        if let Some(v) = body.get("version")
            && v.as_u64() != Some(old.version)
        {
            return Err(AppError::conflict(
                "stale_version",
                "工单已被他人更新，请刷新后查看最新情况再操作",
            ));
        }
        let next = match transition(old.state, action, actor.role) {
            Ok(n) => n,
            Err(Refusal::Role) => return Err(AppError::Forbidden),
            Err(Refusal::State) => return Err(wrong_state(&old, action)),
        };
        let cfg = config(tx)?;
        if !applies(&old, actor, action, &cfg, now) {
            // Say exactly why, where a rule (not a role) refuses it.
            if action == Action::RequestExtension
                && let Some(r) = old.current_round()
                && Some(r.unit) == actor.unit
                && let Some(e) = extension_refusal(&old, r, &cfg, now)
            {
                return Err(e);
            }
            if action == Action::Return
                && let Some(r) = old.current_round()
                && Some(r.unit) == actor.unit
            {
                return Err(AppError::conflict(
                    "return_window_passed",
                    format!(
                        "派单已超过 {} 个工作日，不能退单；如确有困难请申请延期或联系值班长",
                        cfg.limits.return_window_days
                    ),
                ));
            }
            return Err(match action {
                Action::Sign
                | Action::Return
                | Action::Progress
                | Action::Reply
                | Action::RequestExtension
                    if old
                        .current_round()
                        .is_none_or(|r| Some(r.unit) != actor.unit) =>
                {
                    AppError::Forbidden
                }
                _ => wrong_state(&old, action),
            });
        }
        let mut o = old.clone();
        let note = apply(tx, &cfg, actor, &mut o, action, next, &body, now)?;
        o.version += 1;
        o.updated_at = now;
        o.push_timeline(
            now,
            actor.id,
            &actor.display_name,
            actor.role,
            action.code(),
            note,
        );
        orders::put(tx, Some(&old), &o)?;
        audit::append(
            tx,
            now,
            actor.event(
                &format!("order.{}", action.code()),
                Some(format!("order:{}", o.id.0)),
                format!("{} {}", action.label(), o.number),
            ),
        )?;
        Ok(o)
    })
}

fn resolve_target(o: &Order, t: Target, previous: Option<State>) -> State {
    match t {
        Target::State(s) => s,
        Target::Stay => o.state,
        Target::Previous => previous.unwrap_or(o.state),
    }
}

/// Changes `o` for the action and returns the timeline note.
#[allow(clippy::too_many_arguments)]
fn apply(
    tx: &WriteTx,
    cfg: &super::OrderConfig,
    actor: &Actor,
    o: &mut Order,
    action: Action,
    next: Next,
    body: &Value,
    now: Timestamp,
) -> Result<String, AppError> {
    let to = |o: &mut Order, s: State| o.state = s;
    let note = match action {
        Action::Reject => {
            let b: RejectBody = parse(body)?;
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
            let script = crate::service::screening_settings::script_for(tx, b.reason_code)?;
            let told = if note.is_empty() {
                script
            } else {
                format!("{script}（{note}）")
            };
            o.reject_code = Some(b.reason_code);
            o.reject_transfer = transfer.clone();
            o.reject_told = Some(told.clone());
            o.closed_at = Some(now);
            if b.reason_code == 9 {
                crate::store::blacklist::add_incident(tx, &o.caller.phone, now, o.id)?;
            }
            format!(
                "不予受理（代码 {}）{}。已告知来电人：{told}",
                b.reason_code,
                transfer.map(|n| format!("，已转 {n}")).unwrap_or_default()
            )
        }
        Action::Answer => {
            let b: AnswerBody = parse(body)?;
            let reply = required("reply", "答复内容", &b.reply, 5000)?;
            o.answer = Some(reply.clone());
            let mut cited = Vec::new();
            for id in &b.articles {
                let a = crate::store::kb::get(tx, *id)?.ok_or_else(|| {
                    AppError::invalid("articles", format!("知识库文章 {id} 不存在"))
                })?;
                cited.push((a.id, a.version));
            }
            o.cited = cited;
            o.articles = b.articles;
            o.closure = Some(ClosureKind::Direct);
            o.closed_at = Some(now);
            format!("直接答复：{reply}")
        }
        Action::Dispatch => {
            let b: DispatchBody = parse(body)?;
            let unit = active_unit(tx, &b.unit)?;
            let mut co = Vec::new();
            for r in &b.co_units {
                let u = active_unit(tx, r)?;
                if u != unit && !co.contains(&u) {
                    co.push(u);
                }
            }
            let no = o.rounds.len() as u32 + 1;
            let round = new_round(o, cfg, no, unit, co, now, actor.id, b.handle_days)?;
            let due = round.sign.due.display_cst();
            o.rounds.push(round);
            let name = units::get(tx, unit)?.map(|u| u.name).unwrap_or_default();
            format!(
                "派至{name}，签收时限 {due}{}",
                b.note.map(|n| format!("。{n}")).unwrap_or_default()
            )
        }
        Action::Sign => {
            let external_due = o.external_due;
            let r = round_mut(o)?;
            r.signed_at = Some(now);
            let handle = cfg
                .calendar
                .deadline(now, r.handle_span)
                .bounded(external_due);
            r.handle = Some(handle);
            format!("已签收，办理时限 {}", handle.due.display_cst())
        }
        Action::Return => {
            let b: ReturnBody = parse(body)?;
            let reason = required("reason", "退单理由", &b.reason, 1000)?;
            let basis = optional("basis", "依据", &b.basis, 1000)?;
            let from_state = o.state;
            let r = round_mut(o)?;
            r.returns.push(Return {
                reason: reason.clone(),
                basis,
                at: now,
                by: actor.id,
                from_state,
                approved: None,
                decided_at: None,
                note: None,
            });
            format!("申请退单：{reason}")
        }
        Action::DecideReturn => {
            let b: DecideBody = parse(body)?;
            let note = optional("note", "审核意见", &b.note, 1000)?;
            let r = round_mut(o)?;
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
            if let Next::Branch { yes, no } = next {
                let s = resolve_target(o, if b.approve { yes } else { no }, Some(previous));
                to(o, s);
            }
            let verdict = if b.approve {
                "同意退单，工单回到待派单"
            } else {
                "不同意退单，退回承办单位继续办理"
            };
            format!(
                "{verdict}{}",
                note.map(|n| format!("：{n}")).unwrap_or_default()
            )
        }
        Action::RequestExtension => {
            let b: ExtensionBody = parse(body)?;
            let max = cfg.limits.max_extension_days;
            if b.days == 0 || b.days > max {
                return Err(AppError::invalid(
                    "days",
                    format!("延期天数应为 1–{max} 个工作日"),
                ));
            }
            let reason = required("reason", "延期理由", &b.reason, 1000)?;
            let r = round_mut(o)?;
            r.extensions.push(Extension {
                days: b.days,
                reason: reason.clone(),
                requested_at: now,
                requested_by: actor.id,
                approved: None,
                decided_at: None,
                decided_by: None,
                note: None,
            });
            format!("申请延期 {} 个工作日：{reason}", b.days)
        }
        Action::DecideExtension => {
            let b: DecideBody = parse(body)?;
            let note = optional("note", "审核意见", &b.note, 1000)?;
            let bound = o.external_due;
            let r = round_mut(o)?;
            let handle = r.handle;
            let ext = r
                .extensions
                .iter_mut()
                .rev()
                .find(|e| e.approved.is_none())
                .ok_or_else(|| {
                    AppError::conflict("no_pending_extension", "没有待审核的延期申请")
                })?;
            ext.approved = Some(b.approve);
            ext.decided_at = Some(now);
            ext.decided_by = Some(actor.id);
            ext.note = note.clone();
            let days = ext.days;
            if b.approve {
                let h: Deadline =
                    handle.ok_or_else(|| AppError::conflict("not_signed", "工单尚未签收"))?;
                // Never past the platform's own deadline.
                let moved = cfg.calendar.extend(h, days).bounded(bound);
                r.handle = Some(moved);
                let capped = bound.is_some_and(|b| moved.due == b);
                format!(
                    "同意延期 {days} 个工作日，新办理时限 {}{}",
                    moved.due.display_cst(),
                    if capped {
                        "（以平台规定的期限为限）"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "不同意延期{}",
                    note.map(|n| format!("：{n}")).unwrap_or_default()
                )
            }
        }
        Action::Progress => {
            let b: NoteBody = parse(body)?;
            let note = required("note", "汇报内容", &b.note, 2000)?;
            round_mut(o)?.progress.push((now, actor.id, note.clone()));
            format!("中途汇报：{note}")
        }
        Action::Reply => {
            let b: ReplyBody = parse(body)?;
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
            let public_reply = optional("public_reply", "公开答复", &b.public_reply, 5000)?;
            let on_behalf = actor.role == Role::ShiftLead;
            let r = round_mut(o)?;
            r.replies.push(Reply {
                result: result.clone(),
                resolved: b.resolved,
                contact: Contact {
                    contacted,
                    at: contact_time(&at, now)?,
                    how: optional("contact_method", "联系方式", &how, 64)?,
                },
                public_reply,
                at: now,
                by: actor.id,
                on_behalf,
                approved: None,
                review_note: None,
            });
            r.finished_at = Some(now);
            lapse_pending_extensions(r, now);
            format!(
                "{}答复（{}）：{result}",
                if on_behalf { "值班长代录" } else { "" },
                b.resolved.label()
            )
        }
        Action::ReviewReply => {
            let b: DecideBody = parse(body)?;
            let note = optional("note", "审核意见", &b.note, 1000)?;
            if !b.approve && note.is_none() {
                return Err(AppError::invalid("note", "退回重新答复时请写明原因"));
            }
            let r = round_mut(o)?;
            if let Some(reply) = r.replies.last_mut() {
                reply.approved = Some(b.approve);
                reply.review_note = note.clone();
            }
            if !b.approve {
                r.finished_at = None;
            }
            if let Next::Branch { yes, no } = next {
                let s = resolve_target(o, if b.approve { yes } else { no }, None);
                to(o, s);
            }
            if b.approve {
                let due = cfg
                    .calendar
                    .end_of_working_day_after(now, cfg.limits.callback_days);
                format!("答复审核通过，请于 {} 前回访", due.display_cst())
            } else {
                format!("答复退回重新办理：{}", note.unwrap_or_default())
            }
        }
        Action::Callback => {
            let b: CallbackBody = parse(body)?;
            let note = optional("note", "回访记录", &b.note, 2000)?;
            let round = o.rounds.len() as u32;
            o.callbacks.push(Callback {
                satisfaction: b.satisfaction,
                resolved: b.resolved,
                note: note.clone(),
                at: now,
                by: actor.id,
                round,
            });
            match next {
                Next::Branch { yes, no } => {
                    let attempts = o.callback_attempts();
                    let unreachable = b.satisfaction == Satisfaction::Unreachable;
                    let moves_on = !unreachable || attempts >= CALLBACK_ATTEMPTS;
                    let s = resolve_target(o, if moves_on { yes } else { no }, None);
                    to(o, s);
                    if unreachable {
                        format!("回访无法联系（第 {attempts} 次）")
                    } else {
                        format!(
                            "回访：{}{}",
                            b.satisfaction.label(),
                            note.map(|n| format!("，{n}")).unwrap_or_default()
                        )
                    }
                }
                _ => format!("抽样回访：{}", b.satisfaction.label()),
            }
        }
        Action::Reopen => {
            let b: ReopenBody = parse(body)?;
            let reason = required("reason", "重办理由", &b.reason, 1000)?;
            let last = o.current_round().map(|r| (r.unit, r.co_units.clone()));
            let (unit, co) = match (&b.unit, last) {
                (Some(r), _) => (active_unit(tx, r)?, Vec::new()),
                (None, Some((u, co))) => (u, co),
                (None, None) => return Err(AppError::invalid("unit", "请选择承办单位")),
            };
            if let Some(r) = o.current_round_mut() {
                lapse_pending_extensions(r, now);
            }
            let no = o.rounds.len() as u32 + 1;
            let round = new_round(o, cfg, no, unit, co, now, actor.id, None)?;
            o.rounds.push(round);
            o.flags.reopen_count += 1;
            format!("发回重办（第 {} 次）：{reason}", o.flags.reopen_count)
        }
        Action::Close => {
            let b: NoteBody = parse(body)?;
            o.closure = Some(ClosureKind::Reviewed);
            o.closed_at = Some(now);
            if b.note.trim().is_empty() {
                "审结".to_string()
            } else {
                format!("审结：{}", b.note.trim())
            }
        }
        Action::Urge => {
            let b: NoteBody = parse(body)?;
            let note = required("note", "催办内容", &b.note, 1000)?;
            round_mut(o)?.urges += 1;
            o.flags.urge_count += 1;
            format!("催办：{note}")
        }
        Action::Supervise => {
            let b: SuperviseBody = parse(body)?;
            let note = required("note", "督办意见", &b.note, 1000)?;
            let level =
                optional("level", "督办级别", &b.level, 16)?.unwrap_or_else(|| "一般督办".into());
            o.flags.supervised = Some(level.clone());
            format!("{level}：{note}")
        }
        Action::Merge => {
            let b: MergeBody = parse(body)?;
            let key = match &b.into {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(AppError::invalid("into", "请指定主工单")),
            };
            let master_id = super::resolve(tx, &key)?
                .ok_or_else(|| AppError::invalid("into", "主工单不存在"))?;
            if master_id == o.id {
                return Err(AppError::invalid("into", "不能并入工单自身"));
            }
            let old_master = orders::get(tx, master_id)?
                .ok_or_else(|| AppError::invalid("into", "主工单不存在"))?;
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
            master.flags.merged_from.push(o.id);
            master.flags.repeat_calls += 1;
            master.version += 1;
            master.updated_at = now;
            master.push_timeline(
                now,
                actor.id,
                &actor.display_name,
                actor.role,
                "merged_in",
                format!("并入工单 {}", o.number),
            );
            orders::put(tx, Some(&old_master), &master)?;
            o.flags.merged_into = Some(master_id);
            o.closed_at = Some(now);
            format!("并入主工单 {}", master.number)
        }
        Action::Withdraw => {
            let b: NoteBody = parse(body)?;
            let note = required("note", "撤单说明", &b.note, 1000)?;
            o.closed_at = Some(now);
            if let Some(r) = o.current_round_mut() {
                r.finished_at.get_or_insert(now);
                lapse_pending_extensions(r, now);
            }
            format!("撤单：{note}")
        }
    };
    if let Next::To(s) = next {
        o.state = s;
    }
    Ok(note)
}

/// Urges every order whose running deadline has passed, once per deadline; run by the
/// background job every minute. Returns how many were urged.
pub fn urge_overdue(app: &App) -> Result<usize, AppError> {
    let now = app.now();
    let due = app.store.read(|tx| orders::overdue(tx, now, 500))?;
    let mut n = 0;
    for (at, id) in due {
        app.store.write(|tx| -> Result<(), AppError> {
            orders::clear_due(tx, at, id)?;
            let Some(old) = orders::get(tx, id)? else {
                return Ok(());
            };
            if old.running_deadline().is_none_or(|d| d.due != at) {
                return Ok(());
            }
            let mut o = old.clone();
            let what = if o.state == State::Dispatched {
                "签收"
            } else {
                "办理"
            };
            if let Some(r) = o.current_round_mut() {
                r.urges += 1;
            }
            o.flags.urge_count += 1;
            o.version += 1;
            o.updated_at = now;
            o.push_timeline(
                now,
                crate::domain::user::UserId(0),
                "系统",
                Role::Supervisor,
                "auto_urge",
                format!("已超过{what}时限（{}），系统自动催办", at.display_cst()),
            );
            orders::put(tx, Some(&old), &o)?;
            // put() re-indexed the unchanged deadline; urged once is enough.
            orders::clear_due(tx, at, id)?;
            audit::append(
                tx,
                now,
                crate::domain::audit::AuditEvent {
                    actor: "system".into(),
                    action: "order.auto_urge".into(),
                    target: Some(format!("order:{}", id.0)),
                    detail: format!("超期自动催办 {}", o.number),
                    ..Default::default()
                },
            )?;
            n += 1;
            Ok(())
        })?;
    }
    Ok(n)
}
