//! Unit assessment (考核) over a period: figures per unit from its per-day facts, the
//! score, grade and rank in its league (`domain::assessment`), and the orders behind each
//! figure from the index's unit-event keys.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::Period;
use crate::domain::appeal::{AppealState, Figure};
use crate::domain::assessment::{self, Figures, Rules, Sums};
use crate::domain::order::{OrderId, Satisfaction};
use crate::domain::order_facts::{Dim, Measure, Value};
use crate::domain::order_index::{Key, Kind, UnitList, id_of, time_of, unit_event};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::domain::unit::{League, Unit, UnitId};
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, appeals, audit, facts, meta, orders};

const RULES_KEY: &str = "assessment-rules";

impl crate::store::codec::Record for Rules {
    const KIND: &'static str = "assessment_rules";
    const VERSION: u8 = 1;
}

/// The assessment rules in force (the defaults until the admin saves some).
pub fn rules_in(tx: &impl Tx) -> Result<Rules, AppError> {
    Ok(meta::get(tx, RULES_KEY)?.unwrap_or_default())
}

pub fn rules(app: &App, actor: &Actor) -> Result<Rules, AppError> {
    actor.require(Permission::ReportsRead)?;
    app.store.read(rules_in)
}

/// Saves the rules (admin), audited with what they became.
pub fn save_rules(app: &App, actor: &Actor, rules: Rules) -> Result<Rules, AppError> {
    actor.require(Permission::AssessmentManage)?;
    if let Some((field, message)) = rules.invalid() {
        return Err(AppError::invalid(field, message));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<Rules, AppError> {
        meta::put(tx, RULES_KEY, &rules)?;
        let w = &rules.weights;
        audit::append(
            tx,
            now,
            actor.event(
                "assessment.rules",
                None,
                format!(
                    "考核规则：权重 签收{} 办结{} 满意{} 解决{} 退单{} 延期{} 重办{}，最低样本 {} 件",
                    w.signed_on_time,
                    w.finished_on_time,
                    w.satisfaction,
                    w.resolved,
                    w.returns,
                    w.extensions,
                    w.reopens,
                    rules.min_sample
                ),
            ),
        )?;
        Ok(rules.clone())
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct UnitBrief {
    pub id: u64,
    pub code: String,
    pub name: String,
    pub league: &'static str,
    pub league_label: &'static str,
}

/// One unit's line of the assessment.
#[derive(Clone, Debug, Serialize)]
pub struct UnitRow {
    pub unit: UnitBrief,
    #[serde(flatten)]
    pub figures: Figures,
    /// Rank within its league by score (none without a score).
    pub rank: Option<u32>,
    /// Orders upheld appeals took out of a figure.
    pub adjusted: Vec<Adjusted>,
}

/// One order an upheld appeal took out of a figure.
#[derive(Clone, Debug, Serialize)]
pub struct Adjusted {
    pub figure: &'static str,
    pub figure_label: &'static str,
    pub order: u64,
    pub number: String,
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnitReport {
    pub period: Period,
    pub rules: Rules,
    /// By league (乡镇, 县直, 企业), each by rank.
    pub items: Vec<UnitRow>,
}

/// Every unit's figures over the period (units with nothing in it and disabled are left out
/// unless they had work in it).
pub fn assess(app: &App, actor: &Actor, period: &Period) -> Result<UnitReport, AppError> {
    actor.require(Permission::ReportsRead)?;
    let now = app.now();
    app.store.read(|tx| assess_in(tx, period, now))
}

pub fn assess_in(tx: &impl Tx, period: &Period, now: Timestamp) -> Result<UnitReport, AppError> {
    let rules = rules_in(tx)?;
    let mut sums: HashMap<u64, Sums> = HashMap::new();
    let last = period.to_day.saturating_sub(1);
    facts::fold(tx, Dim::Unit, period.from_day, last, |f, n| {
        if let Value::Id(u) = f.value {
            sums.entry(u).or_default().add(f.measure, f.sub, n);
        }
    })?;
    let mut adjusted: HashMap<u64, Vec<Adjusted>> = HashMap::new();
    for figure in Figure::ALL {
        for (unit, order) in appeals::upheld(tx, figure, period.from_day, period.to_day)? {
            let s = sums.entry(unit.0).or_default();
            match figure {
                Figure::Overdue => s.appealed_overdue += 1,
                Figure::Unsatisfied => s.appealed_unsatisfied += 1,
            }
            let a = appeals::by_order(tx, order)?
                .into_iter()
                .find(|a| a.figure == figure && a.unit == unit && a.state == AppealState::Upheld);
            adjusted.entry(unit.0).or_default().push(Adjusted {
                figure: figure.code(),
                figure_label: figure.label(),
                order: order.0,
                number: a.as_ref().map(|a| a.number.clone()).unwrap_or_default(),
                reason: a.as_ref().map(|a| a.reason.clone()).unwrap_or_default(),
                note: a.and_then(|a| a.note),
            });
        }
    }
    let units = crate::store::units::list(tx)?;
    let mut rows: Vec<UnitRow> = Vec::new();
    for u in &units {
        let mut s = sums.remove(&u.id.0).unwrap_or_default();
        s.overdue_open = overdue_open(tx, u.id, period, now)?;
        if u.disabled && s == Sums::default() {
            continue;
        }
        rows.push(UnitRow {
            unit: brief(u),
            figures: assessment::figures(&s, &rules),
            rank: None,
            adjusted: adjusted.remove(&u.id.0).unwrap_or_default(),
        });
    }
    for league in League::ALL {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|i| rows[*i].unit.league == league.code())
            .collect();
        let scores: Vec<Option<f64>> = idx.iter().map(|i| rows[*i].figures.score).collect();
        for (i, r) in idx.into_iter().zip(assessment::ranks(&scores)) {
            rows[i].rank = r;
        }
    }
    let league_order = |code: &str| League::ALL.iter().position(|l| l.code() == code);
    rows.sort_by(|a, b| {
        league_order(a.unit.league)
            .cmp(&league_order(b.unit.league))
            .then(a.rank.unwrap_or(u32::MAX).cmp(&b.rank.unwrap_or(u32::MAX)))
            .then(a.unit.code.cmp(&b.unit.code))
    });
    Ok(UnitReport {
        period: period.clone(),
        rules,
        items: rows,
    })
}

fn brief(u: &Unit) -> UnitBrief {
    UnitBrief {
        id: u.id.0,
        code: u.code.clone(),
        name: u.name.clone(),
        league: u.league.code(),
        league_label: u.league.label(),
    }
}

/// The most orders a figure's count of still-open overdue orders reads per list.
const OVERDUE_CAP: usize = 10_000;

/// The unit's open orders (to sign, in progress) whose deadline passed within the period:
/// one range of its work lists by deadline each, as many keys as such orders.
fn overdue_open(
    tx: &impl Tx,
    unit: UnitId,
    period: &Period,
    now: Timestamp,
) -> Result<u64, AppError> {
    Ok(overdue_open_ids(tx, unit, period, now, OVERDUE_CAP)?.len() as u64)
}

fn overdue_open_ids(
    tx: &impl Tx,
    unit: UnitId,
    period: &Period,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(Timestamp, OrderId)>, AppError> {
    let end = period.end.min(now);
    let mut out = Vec::new();
    for list in [UnitList::ToSign, UnitList::InProgress] {
        let head = Key::new(Kind::UnitQueue).u64(unit.0).u8(list as u8);
        let lo = head.clone().time(period.start).bytes();
        let hi = head.time(end).bytes();
        for k in orders::keys_between(tx, &lo, &hi, false, limit)? {
            if let (Some(t), Some(id)) = (time_of(&k), id_of(&k)) {
                out.push((t, id));
            }
        }
    }
    Ok(out)
}

/// The figures whose orders can be listed, with their Chinese names.
pub const FIGURES: &[(&str, &str)] = &[
    ("dispatched", "派单"),
    ("co_dispatched", "协办"),
    ("signed_late", "超时签收"),
    ("finished", "办结"),
    ("finished_late", "超期办结"),
    ("overdue_open", "超期未办结"),
    ("returned", "退单申请"),
    ("extensions", "延期申请"),
    ("reopened", "发回重办"),
    ("urged", "催办"),
    ("callbacks", "回访接通"),
    ("unsatisfied", "回访不满意"),
];

/// The event keys (measure, sub-codes) behind a figure; `None` for one that is not events.
fn figure_events(figure: &str, rules: &Rules) -> Option<(Measure, Vec<u8>)> {
    let sat_index =
        |s: Satisfaction| Satisfaction::ALL.iter().position(|x| *x == s).unwrap_or(0) as u8;
    let reached: Vec<Satisfaction> = Satisfaction::ALL
        .iter()
        .copied()
        .filter(|s| *s != Satisfaction::Unreachable)
        .collect();
    Some(match figure {
        "dispatched" => (Measure::Dispatched, vec![0]),
        "co_dispatched" => (Measure::CoDispatched, vec![0]),
        "signed_late" => (Measure::SignedLate, vec![0]),
        "finished" => (Measure::Finished, vec![0]),
        "finished_late" => (Measure::FinishedLate, vec![0]),
        "returned" => (Measure::Returned, vec![0]),
        "extensions" => (Measure::ExtensionAsked, vec![0]),
        "reopened" => (Measure::Reopened, vec![0]),
        "urged" => (Measure::Urged, vec![0]),
        "callbacks" => (
            Measure::Callback,
            reached.into_iter().map(sat_index).collect(),
        ),
        "unsatisfied" => (
            Measure::Callback,
            reached
                .into_iter()
                .filter(|s| !rules.satisfied.contains(s))
                .map(sat_index)
                .collect(),
        ),
        _ => return None,
    })
}

/// The unit's name and the orders behind one of its figures over the period, newest event
/// first: one page of at most `limit`, from the index alone.
pub fn figure_orders(
    app: &App,
    actor: &Actor,
    unit: UnitId,
    figure: &str,
    period: &Period,
    limit: usize,
) -> Result<(String, Vec<OrderId>), AppError> {
    actor.require(Permission::ReportsRead)?;
    if !FIGURES.iter().any(|(code, _)| *code == figure) {
        return Err(AppError::invalid("figure", "未知的考核指标"));
    }
    let now = app.now();
    app.store.read(|tx| -> Result<_, AppError> {
        let name = crate::store::units::get(tx, unit)?
            .ok_or(AppError::NotFound)?
            .name;
        let rules = rules_in(tx)?;
        let mut found: BTreeSet<(Timestamp, OrderId)> = BTreeSet::new();
        match figure_events(figure, &rules) {
            None => {
                found.extend(overdue_open_ids(tx, unit, period, now, limit)?);
            }
            Some((measure, subs)) => {
                for sub in subs {
                    let head = unit_event(unit, measure, sub);
                    let lo = head.clone().time(period.start).bytes();
                    let hi = head.time(period.end).bytes();
                    for k in orders::keys_between(tx, &lo, &hi, true, limit)? {
                        if let (Some(t), Some(id)) = (time_of(&k), id_of(&k)) {
                            found.insert((t, id));
                        }
                    }
                }
            }
        }
        // Orders an upheld appeal took out of the figure are not behind it.
        let appealed = match figure {
            "finished_late" => Some(Figure::Overdue),
            "unsatisfied" => Some(Figure::Unsatisfied),
            _ => None,
        };
        if let Some(f) = appealed {
            for (u, order) in appeals::upheld(tx, f, period.from_day, period.to_day)? {
                if u == unit {
                    found.retain(|(_, id)| *id != order);
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        let ids = found
            .into_iter()
            .rev()
            .map(|(_, id)| id)
            .filter(|id| seen.insert(*id))
            .take(limit)
            .collect();
        Ok((name, ids))
    })
}

/// The assessment as a table for CSV and XLSX (rates in percent, blank without a
/// denominator).
pub fn table(r: &UnitReport) -> super::table::Table {
    use super::table::{Cell, Column, Table};
    let col = |name, width| Column { name, width };
    let columns = vec![
        col("分组", 6),
        col("排名", 6),
        col("单位编码", 12),
        col("承办单位", 24),
        col("派单", 8),
        col("协办", 8),
        col("签收及时率(%)", 10),
        col("按时办结率(%)", 10),
        col("超期办结", 8),
        col("超期未办结", 8),
        col("退单率(%)", 9),
        col("延期率(%)", 9),
        col("重办率(%)", 9),
        col("回访率(%)", 9),
        col("满意率(%)", 9),
        col("解决率(%)", 9),
        col("催办", 8),
        col("得分", 8),
        col("等级", 6),
    ];
    let rows = r
        .items
        .iter()
        .map(|u| {
            let f = &u.figures;
            vec![
                Cell::text(u.unit.league_label),
                u.rank.map_or(Cell::Empty, |n| Cell::int(u64::from(n))),
                Cell::text(u.unit.code.clone()),
                Cell::text(u.unit.name.clone()),
                Cell::int(f.dispatched),
                Cell::int(f.co_dispatched),
                Cell::opt(f.signed_on_time_rate),
                Cell::opt(f.finished_on_time_rate),
                Cell::int(f.overdue_finished),
                Cell::int(f.overdue_open),
                Cell::opt(f.return_rate),
                Cell::opt(f.extension_rate),
                Cell::opt(f.reopen_rate),
                Cell::opt(f.callback_rate),
                Cell::opt(f.satisfaction_rate),
                Cell::opt(f.resolved_rate),
                Cell::int(f.urges),
                Cell::opt(f.score),
                f.grade.map_or(Cell::Empty, Cell::text),
            ]
        })
        .collect();
    Table {
        title: format!("承办单位考核（{} 至 {}）", r.period.from, r.period.last),
        columns,
        rows,
    }
}
