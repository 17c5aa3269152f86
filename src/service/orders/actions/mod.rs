//! Taking an action on an order: the table in `order_state` decides who and when; this
//! module checks the finer conditions, applies the fields (one function an action, in the
//! files beside this one), and writes the order, its indexes, its timeline and the audit
//! entry in one transaction.

mod callback;
mod dispatch;
mod review;
mod screening;
mod supervision;
mod unit;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{OrderConfig, config, load_visible};
use crate::domain::order::{ClosureKind, Event, Order, OrderId, Round};
use crate::domain::order_state::{Action, Next, Refusal, State, Target, transition};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
use crate::error::AppError;
use crate::service::users::{UnitRef, resolve_unit};
use crate::service::{Actor, App};
use crate::store::{Tx, WriteTx, audit, orders, units};

pub use callback::CALLBACK_ATTEMPTS;
pub use supervision::urge_overdue;
pub use unit::MIN_REPLY_CHARS;

/// Everything one action works with: the transaction, the office's configuration, who acts,
/// the order being changed, where the table says it goes, the body, and the time.
pub(super) struct Step<'a> {
    pub tx: &'a WriteTx,
    pub cfg: &'a OrderConfig,
    pub actor: &'a Actor,
    pub o: &'a mut Order,
    pub next: Next,
    pub body: &'a Value,
    pub now: Timestamp,
}

impl Step<'_> {
    /// The body as the action's fields (the `version` any action may carry aside).
    fn body<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        let mut b = self.body.clone();
        if let Some(m) = b.as_object_mut() {
            m.remove("version");
        }
        serde_json::from_value(b).map_err(|e| AppError::invalid("body", format!("字段无效：{e}")))
    }

    fn round(&mut self) -> Result<&mut Round, AppError> {
        self.o
            .current_round_mut()
            .ok_or_else(|| AppError::conflict("no_round", "工单尚未派单"))
    }

    /// Moves the order to the branch's state: `yes` when approved.
    fn branch(&mut self, yes: bool, previous: Option<State>) {
        if let Next::Branch { yes: y, no: n } = self.next {
            self.o.state = match if yes { y } else { n } {
                Target::State(s) => s,
                Target::Stay => self.o.state,
                Target::Previous => previous.unwrap_or(self.o.state),
            };
        }
    }
}

/// The finer conditions beyond the state table, so the page offers only what will work.
pub fn applies(o: &Order, actor: &Actor, a: Action, cfg: &OrderConfig, now: Timestamp) -> bool {
    let round = o.current_round();
    let own_round = || round.is_some_and(|r| Some(r.unit) == actor.unit);
    let co_unit = || round.is_some_and(|r| actor.unit.is_some_and(|u| r.co_units.contains(&u)));
    let co_signed = || {
        round.is_some_and(|r| {
            actor
                .unit
                .and_then(|u| r.co_part(u))
                .is_some_and(|p| p.signed_at.is_some())
        })
    };
    let pending_ext = round.is_some_and(|r| r.extensions.iter().any(|e| e.approved.is_none()));
    let proposal = o.flags.reopen_proposal.is_some();
    match a {
        Action::Sign | Action::Progress => own_round(),
        Action::Return => {
            own_round() && round.is_some_and(|r| unit::within_return_window(r, cfg, now))
        }
        Action::Reply => actor.role == Role::ShiftLead || own_round(),
        Action::RequestExtension => {
            own_round()
                && !pending_ext
                && round.is_some_and(|r| unit::extension_refusal(o, r, cfg, now).is_none())
        }
        Action::DecideExtension => pending_ext,
        Action::CoSign => co_unit() && !co_signed(),
        Action::CoOpinion => co_unit() && co_signed(),
        Action::Callback => match o.state {
            State::Closed => o.closure == Some(ClosureKind::Direct),
            State::Merged => o.flags.callback_pending,
            _ => true,
        },
        Action::ProposeReopen => !proposal,
        Action::DecideReopen => proposal,
        // A pending QA proposal is decided before the order is closed.
        Action::Close => !proposal,
        _ => true,
    }
}

/// Why an action that the table allows is refused by a finer rule, said exactly.
fn refusal(
    old: &Order,
    actor: &Actor,
    action: Action,
    cfg: &OrderConfig,
    now: Timestamp,
) -> AppError {
    let round = old.current_round();
    let own = round.is_some_and(|r| Some(r.unit) == actor.unit);
    match action {
        Action::RequestExtension if own => round
            .and_then(|r| unit::extension_refusal(old, r, cfg, now))
            .unwrap_or_else(|| wrong_state(old, action)),
        Action::Return if own => AppError::conflict(
            "return_window_passed",
            format!(
                "派单已超过 {} 个工作日，不能退单；如确有困难请申请延期或联系值班长",
                cfg.limits.return_window_days
            ),
        ),
        Action::Sign
        | Action::Return
        | Action::Progress
        | Action::Reply
        | Action::RequestExtension => AppError::Forbidden,
        Action::CoSign | Action::CoOpinion
            if !round.is_some_and(|r| actor.unit.is_some_and(|u| r.co_units.contains(&u))) =>
        {
            AppError::Forbidden
        }
        Action::Close if old.flags.reopen_proposal.is_some() => {
            AppError::conflict("reopen_proposed", "质检回访员建议重办，请先审核重办建议")
        }
        _ => wrong_state(old, action),
    }
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
    let actor = actor.clone();
    app.store
        .write_batched(move |tx| act_in(tx, &actor, id, action, &body, now))
}

/// One action on one order within the caller's write transaction: the whole of `act`, for a
/// form that acts on many orders at once in one transaction (一键催办).
pub(crate) fn act_in(
    tx: &WriteTx,
    actor: &Actor,
    id: OrderId,
    action: Action,
    body: &Value,
    now: Timestamp,
) -> Result<Order, AppError> {
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
        return Err(refusal(&old, actor, action, &cfg, now));
    }
    let mut o = old.clone();
    let event = {
        let mut step = Step {
            tx,
            cfg: &cfg,
            actor,
            o: &mut o,
            next,
            body,
            now,
        };
        apply(&mut step, action)?
    };
    o.version += 1;
    o.updated_at = now;
    // An approved reopen proposal is a reopen: the timeline says so (a new round).
    let code = if action == Action::DecideReopen && o.rounds.len() > old.rounds.len() {
        Action::Reopen.code()
    } else {
        action.code()
    };
    o.push_timeline(now, actor.id, &actor.display_name, actor.role, code, event);
    orders::put(tx, Some(&old), &o)?;
    // What the platform the order came from must be told goes out with the change or not at
    // all (the worker finds it within a second).
    crate::service::outbox::queue_changes(tx, &old, &o, action, now)?;
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
}

/// Changes the order for the action and returns what the timeline records of it.
fn apply(s: &mut Step, action: Action) -> Result<Event, AppError> {
    let note = match action {
        Action::Reject => screening::reject(s)?,
        Action::Answer => screening::answer(s)?,
        Action::Merge => screening::merge(s)?,
        Action::Withdraw => screening::withdraw(s)?,
        Action::Dispatch => dispatch::dispatch(s)?,
        Action::Reopen => dispatch::reopen(s)?,
        Action::ProposeReopen => dispatch::propose_reopen(s)?,
        Action::DecideReopen => dispatch::decide_reopen(s)?,
        Action::Sign => unit::sign(s)?,
        Action::Return => unit::return_order(s)?,
        Action::RequestExtension => unit::request_extension(s)?,
        Action::Progress => unit::progress(s)?,
        Action::Reply => unit::reply(s)?,
        Action::CoSign => unit::co_sign(s)?,
        Action::CoOpinion => unit::co_opinion(s)?,
        Action::DecideReturn => review::decide_return(s)?,
        Action::DecideExtension => review::decide_extension(s)?,
        Action::ReviewReply => review::review_reply(s)?,
        Action::Close => review::close(s)?,
        Action::Callback => callback::callback(s)?,
        Action::Urge => supervision::urge(s)?,
        Action::Supervise => supervision::supervise(s)?,
    };
    if let Next::To(state) = s.next {
        s.o.state = state;
    }
    Ok(note)
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

/// A pending extension request ends with the round it belongs to.
fn lapse_pending_extensions(r: &mut Round, now: Timestamp) {
    for e in r.extensions.iter_mut().filter(|e| e.approved.is_none()) {
        e.approved = Some(false);
        e.decided_at = Some(now);
        e.note = Some("本轮办理已结束，延期申请自动失效".into());
    }
}
