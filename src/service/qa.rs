//! Quality inspection (质检): the admin's rubric, each day's sample of the operators'
//! orders, QA's scores, the operator's appeal and the shift lead's decision — all audited.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::order::OrderId;
use crate::domain::order_index::{Key, Kind, cst_day};
use crate::domain::qa::{AppealOutcome, Inspection, QaRules, RubricItem, ScoreAppeal, sampled};
use crate::domain::role::{Permission, Role};
use crate::domain::time::{Timestamp, day_string, parse_day};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::store::{Tx, audit, inspections, meta, orders};

const RULES_KEY: &str = "qa-rules";

impl crate::store::codec::Record for QaRules {
    const KIND: &'static str = "qa_rules";
    const VERSION: u8 = 1;
}

pub fn rules_in(tx: &impl Tx) -> Result<QaRules, AppError> {
    Ok(meta::get(tx, RULES_KEY)?.unwrap_or_default())
}

pub fn rules(app: &App, actor: &Actor) -> Result<QaRules, AppError> {
    actor.require(Permission::QaRead)?;
    app.store.read(rules_in)
}

/// A change of the rules; fields left out stay as they are.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesChange {
    #[serde(default)]
    pub items: Option<Vec<RubricItem>>,
    #[serde(default)]
    pub sample_percent: Option<u32>,
    #[serde(default)]
    pub appeal_days: Option<u32>,
}

pub fn save_rules(app: &App, actor: &Actor, change: RulesChange) -> Result<QaRules, AppError> {
    actor.require(Permission::AssessmentManage)?;
    let now = app.now();
    app.store.write(|tx| -> Result<QaRules, AppError> {
        let mut r = rules_in(tx)?;
        if let Some(items) = change.items {
            r.items = items
                .into_iter()
                .map(|mut i| {
                    i.code = i.code.trim().to_string();
                    i.name = i.name.trim().to_string();
                    i
                })
                .collect();
        }
        if let Some(p) = change.sample_percent {
            r.sample_percent = p;
        }
        if let Some(d) = change.appeal_days {
            r.appeal_days = d;
        }
        if let Some((field, message)) = r.invalid() {
            return Err(AppError::invalid(field, message));
        }
        meta::put(tx, RULES_KEY, &r)?;
        let names: Vec<String> = r
            .items
            .iter()
            .map(|i| {
                if i.veto {
                    format!("{}（否决）", i.name)
                } else {
                    format!("{} {}", i.name, i.points)
                }
            })
            .collect();
        audit::append(
            tx,
            now,
            actor.event(
                "qa.rules",
                None,
                format!(
                    "质检评分表：{}；抽检 {}%，申诉期 {} 天",
                    names.join("、"),
                    r.sample_percent,
                    r.appeal_days
                ),
            ),
        )?;
        Ok(r)
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct SampleItem {
    pub id: u64,
    pub number: String,
    pub title: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    /// `risk` (every complaint, report and risk-tagged order) or `share` (the day's share).
    pub reason: &'static str,
    pub inspection: Option<u64>,
    pub total: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OperatorSample {
    pub operator: u64,
    pub name: String,
    pub registered: usize,
    pub items: Vec<SampleItem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Samples {
    pub date: String,
    pub operators: Vec<OperatorSample>,
    pub total: usize,
}

/// The most orders one operator's day is read for (a bound, far above a real shift).
const DAY_CAP: usize = 2_000;

/// The day's sample, per operator: each operator's registrations that day from the index,
/// drawn by the rule (`domain::qa::sampled`).
pub fn samples(app: &App, actor: &Actor, date: Option<&str>) -> Result<Samples, AppError> {
    actor.require(Permission::QaInspect)?;
    let now = app.now();
    let day = match date.map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => parse_day(d)
            .ok_or_else(|| AppError::invalid("date", "日期应为 YYYY-MM-DD，如 2026-12-01"))?,
        None => now
            .to_cst()
            .map(|t| t.date())
            .ok_or_else(|| AppError::Internal("clock out of range".into()))?,
    };
    let start = Timestamp::parse_cst_date(&day_string(day))
        .ok_or_else(|| AppError::invalid("date", "日期超出范围"))?;
    let end = start.plus_secs(86_400);
    app.store.read(|tx| -> Result<Samples, AppError> {
        let rules = rules_in(tx)?;
        let mut operators = Vec::new();
        let mut total = 0;
        for u in crate::store::users::list(tx)? {
            if !matches!(u.role, Role::Operator | Role::ShiftLead) {
                continue;
            }
            let head = Key::new(Kind::ByOperator).u64(u.id.0);
            let lo = head.clone().time(start).bytes();
            let hi = head.time(end).bytes();
            let keys = orders::keys_between(tx, &lo, &hi, false, DAY_CAP)?;
            if keys.is_empty() {
                continue;
            }
            let mut items = Vec::new();
            for k in &keys {
                let Some(id) = crate::domain::order_index::id_of(k) else {
                    continue;
                };
                let Some(o) = orders::get(tx, id)? else {
                    continue;
                };
                let Some(reason) = sampled(
                    o.id,
                    cst_day(o.created_at),
                    o.kind,
                    !o.risk_tags.is_empty(),
                    rules.sample_percent,
                ) else {
                    continue;
                };
                let done = inspections::of_order(tx, o.id)?.into_iter().next();
                items.push(SampleItem {
                    id: o.id.0,
                    number: o.number.clone(),
                    title: o.title.clone(),
                    kind: o.kind.code(),
                    kind_label: o.kind.label(),
                    reason,
                    inspection: done.as_ref().map(|i| i.id),
                    total: done.map(|i| i.total),
                });
            }
            total += items.len();
            operators.push(OperatorSample {
                operator: u.id.0,
                name: u.display_name.clone(),
                registered: keys.len(),
                items,
            });
        }
        Ok(Samples {
            date: day_string(day),
            operators,
            total,
        })
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInspection {
    pub scores: BTreeMap<String, u32>,
    #[serde(default)]
    pub veto: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

/// An inspection for the eye.
#[derive(Clone, Debug, Serialize)]
pub struct InspectionView {
    pub id: u64,
    pub order: u64,
    pub number: String,
    pub operator: u64,
    pub operator_name: String,
    pub by: String,
    pub at: String,
    pub scores: Vec<(String, String, u32, u32)>,
    pub vetoes: Vec<(String, String)>,
    pub total: u32,
    pub comment: String,
    pub counts: bool,
    pub appeal: Option<ScoreAppeal>,
    /// Until when the operator may appeal (display).
    pub appeal_until: String,
    /// Whether the viewer may appeal it now (the operator inspected, within the window).
    pub can_appeal: bool,
}

fn view(i: &Inspection, rules: &QaRules, actor: &Actor, now: Timestamp) -> InspectionView {
    let name = |code: &str| {
        rules
            .items
            .iter()
            .find(|r| r.code == code)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let until = i.at.plus_secs(i64::from(rules.appeal_days) * 86_400);
    InspectionView {
        id: i.id,
        order: i.order.0,
        number: i.number.clone(),
        operator: i.operator.0,
        operator_name: i.operator_name.clone(),
        by: i.by_name.clone(),
        at: i.at.display_cst(),
        scores: i
            .scores
            .iter()
            .map(|(c, v)| {
                let max = rules
                    .items
                    .iter()
                    .find(|r| &r.code == c)
                    .map_or(0, |r| r.points);
                (c.clone(), name(c), *v, max)
            })
            .collect(),
        vetoes: i.vetoes.iter().map(|c| (c.clone(), name(c))).collect(),
        total: i.total,
        comment: i.comment.clone(),
        counts: i.counts(),
        appeal: i.appeal.clone(),
        appeal_until: until.display_cst(),
        can_appeal: i.operator == actor.id && i.appeal.is_none() && now <= until,
    }
}

/// QA scores an order against the rubric (once per order).
pub fn inspect(
    app: &App,
    actor: &Actor,
    order: OrderId,
    body: NewInspection,
) -> Result<InspectionView, AppError> {
    actor.require(Permission::QaInspect)?;
    let comment = body.comment.trim().to_string();
    if comment.chars().count() > 2000 {
        return Err(AppError::invalid("comment", "评语不能超过 2000 字"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<InspectionView, AppError> {
        let o = super::orders::load_visible(tx, actor, order)?;
        let rules = rules_in(tx)?;
        let total = rules
            .score(&body.scores, &body.veto)
            .map_err(|(f, m)| AppError::invalid(f, m))?;
        if !body.veto.is_empty() && comment.is_empty() {
            return Err(AppError::invalid(
                "comment",
                "触发否决项时请在评语中写明事实",
            ));
        }
        if !inspections::of_order(tx, o.id)?.is_empty() {
            return Err(AppError::conflict("already_inspected", "该工单已质检"));
        }
        let operator_name = crate::store::users::get(tx, o.created_by)?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let i = Inspection {
            id: inspections::next_id(tx)?,
            order: o.id,
            number: o.number.clone(),
            operator: o.created_by,
            operator_name,
            by: actor.id,
            by_name: actor.display_name.clone(),
            at: now,
            scores: body.scores.clone(),
            vetoes: body.veto.clone(),
            total,
            comment,
            appeal: None,
        };
        inspections::put(tx, None, &i)?;
        audit::append(
            tx,
            now,
            actor.event(
                "qa.inspect",
                Some(format!("order:{}", o.id.0)),
                format!("质检 {}：{} 分", o.number, total),
            ),
        )?;
        Ok(view(&i, &rules, actor, now))
    })
}

/// Inspections: an operator's own, or anyone's for QA, the shift lead, supervisor and admin;
/// from `from` to `to` (days, `to` exclusive; default the last 30 days), newest first.
pub fn list(
    app: &App,
    actor: &Actor,
    operator: Option<u64>,
    period: &super::reports::Period,
) -> Result<Vec<InspectionView>, AppError> {
    actor.require(Permission::QaRead)?;
    let who = match actor.role {
        Role::Operator => Some(actor.id),
        _ => operator.map(UserId),
    };
    let now = app.now();
    app.store.read(|tx| -> Result<_, AppError> {
        let rules = rules_in(tx)?;
        Ok(
            inspections::in_time(tx, who, period.start, period.end, 500)?
                .iter()
                .map(|i| view(i, &rules, actor, now))
                .collect(),
        )
    })
}

/// The inspection of one order, if any, as the actor may see it (operators: their own).
pub fn of_order(
    app: &App,
    actor: &Actor,
    order: OrderId,
) -> Result<Option<InspectionView>, AppError> {
    if !crate::domain::role::allows(actor.role, Permission::QaRead) {
        return Ok(None);
    }
    let now = app.now();
    app.store.read(|tx| -> Result<_, AppError> {
        let rules = rules_in(tx)?;
        Ok(inspections::of_order(tx, order)?
            .into_iter()
            .find(|i| actor.role != Role::Operator || i.operator == actor.id)
            .map(|i| view(&i, &rules, actor, now)))
    })
}

/// The inspected operator appeals the score within the appeal window.
pub fn appeal(app: &App, actor: &Actor, id: u64, reason: &str) -> Result<InspectionView, AppError> {
    actor.require(Permission::QaRead)?;
    let reason = reason.trim();
    if !(5..=2000).contains(&reason.chars().count()) {
        return Err(AppError::invalid("reason", "请写明申诉理由（5–2000 字）"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<InspectionView, AppError> {
        let old = inspections::get(tx, id)?.ok_or(AppError::NotFound)?;
        if old.operator != actor.id {
            return Err(AppError::Forbidden);
        }
        let rules = rules_in(tx)?;
        if old.appeal.is_some() {
            return Err(AppError::conflict("already_appealed", "该质检结果已申诉过"));
        }
        if now > old.at.plus_secs(i64::from(rules.appeal_days) * 86_400) {
            return Err(AppError::conflict(
                "appeal_window_closed",
                format!("已超过申诉期限（质检后 {} 天内）", rules.appeal_days),
            ));
        }
        let mut i = old.clone();
        i.appeal = Some(ScoreAppeal {
            reason: reason.to_string(),
            at: now,
            outcome: None,
            note: None,
            decided_by_name: None,
            decided_at: None,
        });
        inspections::put(tx, Some(&old), &i)?;
        audit::append(
            tx,
            now,
            actor.event(
                "qa.appeal",
                Some(format!("order:{}", i.order.0)),
                format!("质检申诉 {}", i.number),
            ),
        )?;
        Ok(view(&i, &rules, actor, now))
    })
}

/// The shift lead decides an operator's appeal: `uphold` keeps the score, otherwise the
/// inspection is set aside and no longer counts.
pub fn decide(
    app: &App,
    actor: &Actor,
    id: u64,
    uphold: bool,
    note: Option<&str>,
) -> Result<InspectionView, AppError> {
    actor.require(Permission::QaAppealDecide)?;
    let note = note.map(str::trim).filter(|s| !s.is_empty());
    if note.is_none_or(|n| n.chars().count() > 1000) {
        return Err(AppError::invalid("note", "请写明审核意见（1000 字以内）"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<InspectionView, AppError> {
        let old = inspections::get(tx, id)?.ok_or(AppError::NotFound)?;
        let mut i = old.clone();
        let Some(a) = i.appeal.as_mut().filter(|a| a.outcome.is_none()) else {
            return Err(AppError::conflict("no_pending_appeal", "没有待审核的申诉"));
        };
        a.outcome = Some(if uphold {
            AppealOutcome::Upheld
        } else {
            AppealOutcome::Annulled
        });
        a.note = note.map(str::to_string);
        a.decided_by_name = Some(actor.display_name.clone());
        a.decided_at = Some(now);
        inspections::put(tx, Some(&old), &i)?;
        audit::append(
            tx,
            now,
            actor.event(
                "qa.decide",
                Some(format!("order:{}", i.order.0)),
                format!(
                    "质检申诉 {}：{}",
                    i.number,
                    if uphold {
                        "维持评分"
                    } else {
                        "撤销评分"
                    }
                ),
            ),
        )?;
        let rules = rules_in(tx)?;
        Ok(view(&i, &rules, actor, now))
    })
}

/// Appeals waiting for the shift lead.
pub fn pending_appeals(app: &App, actor: &Actor) -> Result<Vec<InspectionView>, AppError> {
    actor.require(Permission::QaAppealDecide)?;
    let now = app.now();
    app.store.read(|tx| -> Result<_, AppError> {
        let rules = rules_in(tx)?;
        Ok(inspections::appealed(tx, 200)?
            .iter()
            .map(|i| view(i, &rules, actor, now))
            .collect())
    })
}
