//! Unit appeals against the assessment (考核申诉): a unit files one against an order that
//! counts against it as overdue or unsatisfied; the supervisor upholds or rejects it; an
//! upheld appeal takes the order out of that figure (`reports::units`).

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::appeal::{Appeal, AppealState, Figure, contestable};
use crate::domain::order::{Order, OrderId};
use crate::domain::role::{Permission, Role};
use crate::error::AppError;
use crate::store::{Tx, appeals, audit};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAppeal {
    pub figure: String,
    pub reason: String,
    /// Hashes of the order's attachments offered as evidence.
    #[serde(default)]
    pub attachments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub uphold: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// An appeal for the eye.
#[derive(Clone, Debug, Serialize)]
pub struct AppealView {
    pub id: u64,
    pub order: u64,
    pub number: String,
    pub unit: u64,
    pub unit_name: String,
    pub figure: &'static str,
    pub figure_label: &'static str,
    pub round: u32,
    pub event_at: String,
    pub reason: String,
    pub attachments: Vec<String>,
    pub filed_by: String,
    pub filed_at: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
}

fn view(tx: &impl Tx, a: &Appeal) -> Result<AppealView, AppError> {
    let unit_name = crate::store::units::get(tx, a.unit)?
        .map(|u| u.name)
        .unwrap_or_default();
    Ok(AppealView {
        id: a.id,
        order: a.order.0,
        number: a.number.clone(),
        unit: a.unit.0,
        unit_name,
        figure: a.figure.code(),
        figure_label: a.figure.label(),
        round: a.round,
        event_at: a.event_at.display_cst(),
        reason: a.reason.clone(),
        attachments: a.attachments.clone(),
        filed_by: a.filed_by_name.clone(),
        filed_at: a.filed_at.display_cst(),
        state: a.state.code(),
        state_label: a.state.label(),
        decided_by: a.decided_by_name.clone(),
        decided_at: a.decided_at.map(|t| t.display_cst()),
        note: a.note.clone(),
    })
}

/// The figures the unit may still contest on this order (counted against it, not yet
/// appealed).
pub fn open_figures(tx: &impl Tx, o: &Order, actor: &Actor) -> Result<Vec<Figure>, AppError> {
    let Some(unit) = actor.unit.filter(|_| actor.role == Role::Unit) else {
        return Ok(Vec::new());
    };
    let rules = super::reports::units::rules_in(tx)?;
    let mut out = Vec::new();
    for f in Figure::ALL {
        if let Some((round, _)) = contestable(o, unit, f, &rules.satisfied)
            && !appeals::exists(tx, &appeals::result_key(o.id, f, round))?
        {
            out.push(f);
        }
    }
    Ok(out)
}

/// The appeals on one order the actor may see (a unit: its own).
pub fn of_order(tx: &impl Tx, actor: &Actor, order: OrderId) -> Result<Vec<AppealView>, AppError> {
    if !crate::domain::role::allows(actor.role, Permission::AppealsRead) {
        return Ok(Vec::new());
    }
    appeals::by_order(tx, order)?
        .iter()
        .filter(|a| actor.role != Role::Unit || actor.unit == Some(a.unit))
        .map(|a| view(tx, a))
        .collect()
}

/// A unit files an appeal against one order's result.
pub fn file(
    app: &App,
    actor: &Actor,
    order: OrderId,
    body: NewAppeal,
) -> Result<AppealView, AppError> {
    actor.require(Permission::AppealsFile)?;
    let unit = actor.unit.ok_or(AppError::Forbidden)?;
    let figure = Figure::parse(body.figure.trim()).ok_or_else(|| {
        AppError::invalid(
            "figure",
            "申诉的指标应为 overdue（超期办结）或 unsatisfied（回访不满意）",
        )
    })?;
    let reason = body.reason.trim().to_string();
    if reason.chars().count() < 5 || reason.chars().count() > 2000 {
        return Err(AppError::invalid("reason", "请写明申诉理由（5–2000 字）"));
    }
    if body.attachments.len() > 10 {
        return Err(AppError::invalid("attachments", "证明材料最多 10 个"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<AppealView, AppError> {
        let o = super::orders::load_visible(tx, actor, order)?;
        for h in &body.attachments {
            let ok = o.attachments.iter().any(|a| {
                &a.hash == h && super::orders::privacy::unit_sees_attachment(&o, unit, a.at)
            });
            if !ok {
                return Err(AppError::invalid(
                    "attachments",
                    "证明材料须是本工单上贵单位可见的附件",
                ));
            }
        }
        let rules = super::reports::units::rules_in(tx)?;
        let Some((round, event_at)) = contestable(&o, unit, figure, &rules.satisfied) else {
            return Err(AppError::conflict(
                "not_counted",
                format!("本工单没有计入贵单位的「{}」，无需申诉", figure.label()),
            ));
        };
        if appeals::exists(tx, &appeals::result_key(o.id, figure, round))? {
            return Err(AppError::conflict(
                "already_appealed",
                format!("本工单第 {round} 轮的「{}」已提出过申诉", figure.label()),
            ));
        }
        let a = Appeal {
            id: appeals::next_id(tx)?,
            order: o.id,
            number: o.number.clone(),
            unit,
            round,
            figure,
            event_at,
            reason,
            attachments: body.attachments.clone(),
            filed_by: actor.id,
            filed_by_name: actor.display_name.clone(),
            filed_at: now,
            state: AppealState::Pending,
            decided_by_name: None,
            decided_at: None,
            note: None,
        };
        appeals::put(tx, None, &a)?;
        audit::append(
            tx,
            now,
            actor.event(
                "appeal.file",
                Some(format!("order:{}", o.id.0)),
                format!("考核申诉 {}（{}）", o.number, figure.label()),
            ),
        )?;
        view(tx, &a)
    })
}

/// The supervisor upholds or rejects a pending appeal (a rejection says why).
pub fn decide(app: &App, actor: &Actor, id: u64, d: Decision) -> Result<AppealView, AppError> {
    actor.require(Permission::AppealsDecide)?;
    let note = d.note.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::invalid("note", "审核意见不能超过 1000 字"));
    }
    if !d.uphold && note.is_none() {
        return Err(AppError::invalid("note", "驳回申诉时请写明理由"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<AppealView, AppError> {
        let old = appeals::get(tx, id)?.ok_or(AppError::NotFound)?;
        if old.state != AppealState::Pending {
            return Err(AppError::conflict("already_decided", "该申诉已审核"));
        }
        let mut a = old.clone();
        a.state = if d.uphold {
            AppealState::Upheld
        } else {
            AppealState::Rejected
        };
        a.decided_by_name = Some(actor.display_name.clone());
        a.decided_at = Some(now);
        a.note = note.map(str::to_string);
        appeals::put(tx, Some(&old), &a)?;
        audit::append(
            tx,
            now,
            actor.event(
                "appeal.decide",
                Some(format!("order:{}", a.order.0)),
                format!(
                    "考核申诉 {}（{}）：{}",
                    a.number,
                    a.figure.label(),
                    a.state.label()
                ),
            ),
        )?;
        view(tx, &a)
    })
}

/// Appeals: a unit's own (newest first), or everyone's of one state for the supervisor.
pub fn list(
    app: &App,
    actor: &Actor,
    state: Option<&str>,
) -> Result<(Vec<AppealView>, usize), AppError> {
    actor.require(Permission::AppealsRead)?;
    let state =
        match state.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(AppealState::parse(s).ok_or_else(|| {
                AppError::invalid("state", "状态应为 pending、upheld 或 rejected")
            })?),
            None => None,
        };
    app.store.read(|tx| -> Result<_, AppError> {
        let (items, total) = match (actor.role, actor.unit) {
            (Role::Unit, Some(u)) => {
                let (all, _) = appeals::by_unit(tx, u, 200)?;
                let mine: Vec<Appeal> = all
                    .into_iter()
                    .filter(|a| state.is_none_or(|s| a.state == s))
                    .collect();
                let n = mine.len();
                (mine, n)
            }
            (Role::Unit, None) => (Vec::new(), 0),
            _ => appeals::by_state(tx, state.unwrap_or(AppealState::Pending), 200)?,
        };
        let views = items
            .iter()
            .map(|a| view(tx, a))
            .collect::<Result<_, _>>()?;
        Ok((views, total))
    })
}

/// What the order page shows of appeals.
#[derive(Serialize)]
pub struct OrderAppeals {
    /// The appeals on the order the actor may see.
    pub listed: Vec<AppealView>,
    /// The figures (code, label) a unit may still contest on it.
    pub open: Vec<(&'static str, &'static str)>,
}

pub fn for_order_page(app: &App, actor: &Actor, order: OrderId) -> Result<OrderAppeals, AppError> {
    app.store.read(|tx| -> Result<_, AppError> {
        let listed = of_order(tx, actor, order)?;
        let open = if actor.role == Role::Unit {
            let o = super::orders::load_visible(tx, actor, order)?;
            open_figures(tx, &o, actor)?
                .into_iter()
                .map(|f| (f.code(), f.label()))
                .collect()
        } else {
            Vec::new()
        };
        Ok(OrderAppeals { listed, open })
    })
}
