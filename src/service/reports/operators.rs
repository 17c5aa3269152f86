//! Operator figures (话务员工作量与质量) over a period: registered (the index's per-day
//! counters), direct answers and the time to answer (per-day facts), the QA score and the
//! appeals against it (the inspections of the period).

use std::collections::HashMap;

use serde::Serialize;

use super::Period;
use super::table::{Cell, Column, Table};
use crate::domain::assessment::rate;
use crate::domain::order_facts::{Dim, Measure, Value};
use crate::domain::order_index::{Key, Kind, day_counter};
use crate::domain::role::{Permission, Role};
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, facts, inspections, orders};

#[derive(Clone, Debug, Serialize)]
pub struct Who {
    pub id: u64,
    pub username: String,
    pub display_name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct OperatorRow {
    pub user: Who,
    pub registered: u64,
    pub answered: u64,
    pub direct_answer_rate: Option<f64>,
    /// Minutes from registration to the direct answer, on average.
    pub avg_handle_minutes: Option<f64>,
    /// After-call work (话后处理): minutes from registration to the operator's own first
    /// dispatch, direct answer, rejection or merge, on average (within eight hours).
    pub avg_wrap_up_minutes: Option<f64>,
    pub dispatched: u64,
    pub inspected: u64,
    pub qa_score: Option<f64>,
    pub appeals: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct OperatorReport {
    pub period: Period,
    pub items: Vec<OperatorRow>,
}

/// The most inspections of one operator read for a period (far above a real month's).
const INSPECTIONS_CAP: usize = 5_000;

pub fn operators(app: &App, actor: &Actor, period: &Period) -> Result<OperatorReport, AppError> {
    actor.require(Permission::ReportsRead)?;
    app.store.read(|tx| operators_in(tx, period))
}

pub fn operators_in(tx: &impl Tx, period: &Period) -> Result<OperatorReport, AppError> {
    let mut sums: HashMap<u64, [u64; 5]> = HashMap::new();
    facts::fold(
        tx,
        Dim::Operator,
        period.from_day,
        period.to_day.saturating_sub(1),
        |f, n| {
            let Value::Id(u) = f.value else {
                return;
            };
            let slot = match f.measure {
                Measure::Answered => 0,
                Measure::AnswerSecs => 1,
                Measure::Dispatched => 2,
                Measure::WrapUp => 3,
                Measure::WrapUpSecs => 4,
                _ => return,
            };
            sums.entry(u).or_default()[slot] += n;
        },
    )?;
    let mut items = Vec::new();
    for u in crate::store::users::list(tx)? {
        if !matches!(u.role, Role::Operator | Role::ShiftLead) {
            continue;
        }
        let head = Key::new(Kind::ByOperator).u64(u.id.0);
        let days: Vec<Vec<u8>> = (period.from_day..period.to_day)
            .map(|d| day_counter(head.as_slice(), d))
            .collect();
        let registered: u64 = orders::counts_of(tx, &days)?.into_iter().sum();
        let [answered, secs, dispatched, wrapped, wrap_secs] =
            sums.remove(&u.id.0).unwrap_or_default();
        let done = inspections::in_time(tx, Some(u.id), period.start, period.end, INSPECTIONS_CAP)?;
        let counted: Vec<u32> = done
            .iter()
            .filter(|i| i.counts())
            .map(|i| i.total)
            .collect();
        let qa_score = (!counted.is_empty()).then(|| {
            let avg = counted.iter().map(|t| f64::from(*t)).sum::<f64>() / counted.len() as f64;
            (avg * 100.0).round() / 100.0
        });
        let appeals = done.iter().filter(|i| i.appeal.is_some()).count() as u64;
        if u.disabled && registered == 0 && answered == 0 && done.is_empty() {
            continue;
        }
        items.push(OperatorRow {
            user: Who {
                id: u.id.0,
                username: u.username.clone(),
                display_name: u.display_name.clone(),
            },
            registered,
            answered,
            direct_answer_rate: rate(answered, registered),
            avg_handle_minutes: minutes(secs, answered),
            avg_wrap_up_minutes: minutes(wrap_secs, wrapped),
            dispatched,
            inspected: counted.len() as u64,
            qa_score,
            appeals,
        });
    }
    items.sort_by(|a, b| {
        b.registered
            .cmp(&a.registered)
            .then(a.user.username.cmp(&b.user.username))
    });
    Ok(OperatorReport {
        period: period.clone(),
        items,
    })
}

/// The average of `secs` over `n` in minutes, to a tenth; none of nothing.
fn minutes(secs: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| ((secs as f64 / n as f64 / 60.0) * 10.0).round() / 10.0)
}

pub fn table(r: &OperatorReport) -> Table {
    let col = |name, width| Column { name, width };
    Table {
        title: format!(
            "话务员工作量与质量（{} 至 {}）",
            r.period.from, r.period.last
        ),
        columns: vec![
            col("话务员", 14),
            col("账号", 12),
            col("受理", 8),
            col("直接办结", 8),
            col("直接办结率(%)", 10),
            col("平均办结用时(分钟)", 12),
            col("平均话后处理(分钟)", 12),
            col("派单", 8),
            col("质检件数", 8),
            col("质检平均分", 10),
            col("质检申诉", 8),
        ],
        rows: r
            .items
            .iter()
            .map(|o| {
                vec![
                    Cell::text(o.user.display_name.clone()),
                    Cell::text(o.user.username.clone()),
                    Cell::int(o.registered),
                    Cell::int(o.answered),
                    Cell::opt(o.direct_answer_rate),
                    Cell::opt(o.avg_handle_minutes),
                    Cell::opt(o.avg_wrap_up_minutes),
                    Cell::int(o.dispatched),
                    Cell::int(o.inspected),
                    Cell::opt(o.qa_score),
                    Cell::int(o.appeals),
                ]
            })
            .collect(),
    }
}
