//! 通报: the daily, weekly or monthly bulletin — the overview, registrations by channel,
//! line, kind, category, town, state and unit, overdue orders by unit (finished late and
//! still open), the weakest units — from the index's per-day counters and the per-day facts.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Period;
use super::chart::hbars;
use super::table::{Cell, Column, Table};
use super::units::{UnitReport, assess_in};
use crate::domain::assessment::rate;
use crate::domain::order::{Channel, Kind as OrderKind, Line};
use crate::domain::order_facts::{Dim, Measure};
use crate::domain::order_index::{DAY_BIT, Key, Kind, day_counter};
use crate::domain::order_state::State;
use crate::domain::role::Permission;
use crate::domain::time::{Timestamp, day_string, parse_day};
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, facts, orders};

#[derive(Clone, Debug, Default, Serialize)]
pub struct Overview {
    pub registered: u64,
    pub answered: u64,
    pub answer_rate: Option<f64>,
    pub rejected: u64,
    pub dispatched: u64,
    pub finished: u64,
    pub finished_late: u64,
    pub closed: u64,
    pub reopened: u64,
    pub callbacks: u64,
    pub satisfaction_rate: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Breakdown {
    pub key: &'static str,
    pub title: &'static str,
    /// (label, orders, share of the period's registrations in percent)
    pub rows: Vec<(String, u64, Option<f64>)>,
    pub chart: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bulletin {
    /// `daily`, `weekly`, `monthly` or `custom`.
    pub kind: &'static str,
    pub title: String,
    pub period: Period,
    pub overview: Overview,
    pub breakdowns: Vec<Breakdown>,
    /// Units with overdue orders: (unit, finished late, still open past the deadline).
    pub overdue: Vec<(String, u64, u64)>,
    /// The five lowest scores: (unit, league, score, grade).
    pub weakest: Vec<(String, &'static str, f64, &'static str)>,
    /// Typical cases the supervisor chose in the period.
    pub cases: Vec<crate::store::cases::TypicalCase>,
}

/// The period of a bulletin of `kind` holding `date` (default today): the day, its week
/// (Monday first) or its month.
pub fn period_of(
    kind: &str,
    date: Option<&str>,
    now: Timestamp,
) -> Result<(&'static str, Period), AppError> {
    let day = match date.map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => parse_day(d).ok_or_else(|| AppError::invalid("date", "日期应为 YYYY-MM-DD"))?,
        None => now
            .to_cst()
            .map(|t| t.date())
            .ok_or_else(|| AppError::Internal("clock out of range".into()))?,
    };
    let (kind, from, to) = match kind {
        "daily" => ("daily", day, day.next_day().unwrap_or(day)),
        "weekly" => {
            let monday =
                day - time::Duration::days(i64::from(day.weekday().number_days_from_monday()));
            ("weekly", monday, monday + time::Duration::days(7))
        }
        "monthly" | "" => {
            let first = day.replace_day(1).unwrap_or(day);
            let next = (first + time::Duration::days(32))
                .replace_day(1)
                .unwrap_or(first);
            ("monthly", first, next)
        }
        _ => {
            return Err(AppError::invalid(
                "kind",
                "通报周期应为 daily、weekly 或 monthly",
            ));
        }
    };
    let p = Period::parse(Some(&day_string(from)), Some(&day_string(to)), now)?;
    Ok((kind, p))
}

/// Registrations in the period by the values of one filter kind, from the per-day counters
/// (one short range a day).
pub(super) fn by_value(
    tx: &impl Tx,
    kind: Kind,
    p: &Period,
) -> Result<BTreeMap<Vec<u8>, u64>, AppError> {
    let mut out: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let head = Key::new(kind);
    for d in p.from_day..p.to_day {
        let lo = day_counter(head.as_slice(), d);
        let hi = day_counter(head.as_slice(), d + 1);
        for (k, n) in orders::counters_between(tx, &lo, &hi)? {
            if k.first().is_some_and(|t| t & DAY_BIT != 0) {
                *out.entry(k[5..].to_vec()).or_default() += n;
            }
        }
    }
    Ok(out)
}

pub(super) fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v.strip_suffix(&[0]).unwrap_or(v)).into_owned()
}

fn breakdown(
    key: &'static str,
    title: &'static str,
    counts: BTreeMap<Vec<u8>, u64>,
    label: impl Fn(&[u8]) -> String,
    total: u64,
) -> Breakdown {
    let mut rows: Vec<(String, u64, Option<f64>)> = counts
        .iter()
        .map(|(v, n)| (label(v), *n, rate(*n, total)))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<(String, u64)> = rows.iter().take(15).map(|r| (r.0.clone(), r.1)).collect();
    Breakdown {
        key,
        title,
        chart: hbars(title, &shown),
        rows,
    }
}

pub fn bulletin(
    app: &App,
    actor: &Actor,
    kind: &str,
    date: Option<&str>,
) -> Result<Bulletin, AppError> {
    actor.require(Permission::ReportsRead)?;
    let (kind, period) = period_of(kind, date, app.now())?;
    of_period(app, actor, kind, &period)
}

/// The bulletin of any period (`kind` names it: `custom` for the summary API).
pub fn of_period(
    app: &App,
    actor: &Actor,
    kind: &'static str,
    period: &Period,
) -> Result<Bulletin, AppError> {
    actor.require(Permission::ReportsRead)?;
    let now = app.now();
    app.store.read(|tx| bulletin_in(tx, kind, period, now))
}

pub fn bulletin_in(
    tx: &impl Tx,
    kind: &'static str,
    p: &Period,
    now: Timestamp,
) -> Result<Bulletin, AppError> {
    let created = Key::new(Kind::Created);
    let days: Vec<Vec<u8>> = (p.from_day..p.to_day)
        .map(|d| day_counter(created.as_slice(), d))
        .collect();
    let registered: u64 = orders::counts_of(tx, &days)?.into_iter().sum();
    let mut o = Overview {
        registered,
        ..Overview::default()
    };
    let mut sat = [0u64; 6];
    facts::fold(
        tx,
        Dim::Centre,
        p.from_day,
        p.to_day.saturating_sub(1),
        |f, n| match f.measure {
            Measure::Answered => o.answered += n,
            Measure::Rejected => o.rejected += n,
            Measure::Dispatched => o.dispatched += n,
            Measure::Finished => o.finished += n,
            Measure::FinishedLate => o.finished_late += n,
            Measure::Closed => o.closed += n,
            Measure::Reopened => o.reopened += n,
            Measure::Callback => {
                if let Some(s) = sat.get_mut(f.sub as usize) {
                    *s += n;
                }
            }
            _ => {}
        },
    )?;
    o.answer_rate = rate(o.answered, o.registered);
    let rules = super::units::rules_in(tx)?;
    let sums = crate::domain::assessment::Sums {
        callbacks: sat,
        ..Default::default()
    };
    let f = crate::domain::assessment::figures(&sums, &rules);
    o.callbacks = f.callbacks_counted;
    o.satisfaction_rate = f.satisfaction_rate;

    let categories =
        crate::store::meta::get::<crate::domain::category::Categories>(tx, "categories")?
            .unwrap_or_default();
    let units: BTreeMap<u64, String> = crate::store::units::list(tx)?
        .into_iter()
        .map(|u| (u.id.0, u.name))
        .collect();
    let total = o.registered;
    let code = |v: &[u8]| text(v);
    let breakdowns = vec![
        breakdown(
            "channel",
            "按渠道",
            by_value(tx, Kind::ByChannel, p)?,
            |v| Channel::parse(&code(v)).map_or_else(|| code(v), |c| c.label().to_string()),
            total,
        ),
        breakdown(
            "line",
            "按专线",
            by_value(tx, Kind::ByLine, p)?,
            |v| Line::parse(&code(v)).map_or_else(|| code(v), |c| c.label().to_string()),
            total,
        ),
        breakdown(
            "kind",
            "按诉求类型",
            by_value(tx, Kind::ByKind, p)?,
            |v| OrderKind::parse(&code(v)).map_or_else(|| code(v), |c| c.label().to_string()),
            total,
        ),
        breakdown(
            "category",
            "按诉求分类",
            by_value(tx, Kind::ByCategory, p)?,
            |v| {
                let c = code(v);
                let path = categories.path(&c);
                if path.is_empty() { c } else { path }
            },
            total,
        ),
        breakdown(
            "town",
            "按乡镇（街道）",
            by_value(tx, Kind::ByTown, p)?,
            code,
            total,
        ),
        breakdown(
            "state",
            "按当前状态",
            by_value(tx, Kind::ByState, p)?,
            |v| State::parse(&code(v)).map_or_else(|| code(v), |s| s.label().to_string()),
            total,
        ),
        breakdown(
            "unit",
            "按承办单位",
            by_value(tx, Kind::ByUnit, p)?,
            |v| {
                let id = v
                    .get(..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                units
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("单位 {id}"))
            },
            total,
        ),
    ];
    let report: UnitReport = assess_in(tx, p, now)?;
    let mut overdue: Vec<(String, u64, u64)> = report
        .items
        .iter()
        .filter(|u| u.figures.overdue_finished > 0 || u.figures.overdue_open > 0)
        .map(|u| {
            (
                u.unit.name.clone(),
                u.figures.overdue_finished,
                u.figures.overdue_open,
            )
        })
        .collect();
    overdue.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(&b.0)));
    let mut scored: Vec<(String, &'static str, f64, &'static str)> = report
        .items
        .iter()
        .filter_map(|u| {
            Some((
                u.unit.name.clone(),
                u.unit.league_label,
                u.figures.score?,
                u.figures.grade?,
            ))
        })
        .collect();
    scored.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
    scored.truncate(5);
    let name = match kind {
        "daily" => "日报",
        "weekly" => "周报",
        "monthly" => "月报",
        _ => "通报",
    };
    Ok(Bulletin {
        kind,
        title: format!("工单办理情况{name}（{} 至 {}）", p.from, p.last),
        period: p.clone(),
        overview: o,
        breakdowns,
        overdue,
        weakest: scored,
        cases: super::cases::in_period(tx, p)?,
    })
}

/// The bulletin as one table: section, item, orders, share.
pub fn table(b: &Bulletin) -> Table {
    let col = |name, width| Column { name, width };
    let mut rows = Vec::new();
    let o = &b.overview;
    for (item, v) in [
        ("受理", Some(o.registered as f64)),
        ("直接办结", Some(o.answered as f64)),
        ("直接办结率(%)", o.answer_rate),
        ("不予受理", Some(o.rejected as f64)),
        ("派单", Some(o.dispatched as f64)),
        ("承办单位答复", Some(o.finished as f64)),
        ("超期答复", Some(o.finished_late as f64)),
        ("办结", Some(o.closed as f64)),
        ("发回重办", Some(o.reopened as f64)),
        ("回访", Some(o.callbacks as f64)),
        ("满意率(%)", o.satisfaction_rate),
    ] {
        rows.push(vec![
            Cell::text("运行概况"),
            Cell::text(item),
            Cell::opt(v),
            Cell::Empty,
        ]);
    }
    for bd in &b.breakdowns {
        for (label, n, share) in &bd.rows {
            rows.push(vec![
                Cell::text(bd.title),
                Cell::text(label.clone()),
                Cell::int(*n),
                Cell::opt(*share),
            ]);
        }
    }
    for (unit, late, open) in &b.overdue {
        rows.push(vec![
            Cell::text("超期办结"),
            Cell::text(unit.clone()),
            Cell::int(*late),
            Cell::Empty,
        ]);
        rows.push(vec![
            Cell::text("超期未办结"),
            Cell::text(unit.clone()),
            Cell::int(*open),
            Cell::Empty,
        ]);
    }
    for (unit, league, score, grade) in &b.weakest {
        rows.push(vec![
            Cell::text("得分较低的单位"),
            Cell::text(format!("{unit}（{league}，{grade}）")),
            Cell::Number(*score),
            Cell::Empty,
        ]);
    }
    for c in &b.cases {
        rows.push(vec![
            Cell::text("典型案例"),
            Cell::text(format!("{} {}：{}", c.number, c.title, c.note)),
            Cell::Empty,
            Cell::Empty,
        ]);
    }
    Table {
        title: b.title.clone(),
        columns: vec![
            col("栏目", 14),
            col("项目", 30),
            col("数量", 10),
            col("占比(%)", 10),
        ],
        rows,
    }
}
