//! Hot topics (热点): the categories and towns with the most registrations in a period, and
//! how many the period before it of the same length had — rising ones first. From the
//! index's per-day counters: two periods of day ranges, never the orders.

use serde::Serialize;

use super::Period;
use super::table::{Cell, Column, Table};
use crate::domain::order_index::Kind;
use crate::domain::role::Permission;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::Tx;

#[derive(Clone, Debug, Serialize)]
pub struct Topic {
    pub code: String,
    pub name: String,
    pub count: u64,
    pub previous: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Hot {
    pub period: Period,
    pub previous: Period,
    pub categories: Vec<Topic>,
    pub towns: Vec<Topic>,
}

/// The period of the same length just before `p`.
pub fn previous(p: &Period, now: crate::domain::time::Timestamp) -> Result<Period, AppError> {
    let days = i64::from(p.to_day - p.from_day);
    let from = p.start.plus_secs(-days * 86_400).cst_day();
    Period::parse(Some(&from), Some(&p.from), now)
}

/// Rising first (by how many more than before), then by count; at most 30.
fn rank(mut v: Vec<Topic>) -> Vec<Topic> {
    v.sort_by(|a, b| {
        let rise = |t: &Topic| t.count as i64 - t.previous as i64;
        rise(b)
            .cmp(&rise(a))
            .then(b.count.cmp(&a.count))
            .then(a.name.cmp(&b.name))
    });
    v.truncate(30);
    v
}

fn topics(
    tx: &impl Tx,
    kind: Kind,
    p: &Period,
    before: &Period,
    name: impl Fn(&str) -> String,
) -> Result<Vec<Topic>, AppError> {
    let now = super::bulletin::by_value(tx, kind, p)?;
    let then = super::bulletin::by_value(tx, kind, before)?;
    let mut out: Vec<Topic> = Vec::new();
    for (v, n) in &now {
        let code = super::bulletin::text(v);
        out.push(Topic {
            name: name(&code),
            count: *n,
            previous: then.get(v).copied().unwrap_or(0),
            code,
        });
    }
    Ok(rank(out))
}

pub fn hot(app: &App, actor: &Actor, p: &Period) -> Result<Hot, AppError> {
    actor.require(Permission::ReportsRead)?;
    let now = app.now();
    let before = previous(p, now)?;
    app.store.read(|tx| -> Result<Hot, AppError> {
        let cats: crate::domain::category::Categories =
            crate::store::meta::get(tx, "categories")?.unwrap_or_default();
        let path = |c: &str| {
            let p = cats.path(c);
            if p.is_empty() { c.to_string() } else { p }
        };
        Ok(Hot {
            categories: topics(tx, Kind::ByCategory, p, &before, path)?,
            towns: topics(tx, Kind::ByTown, p, &before, str::to_string)?,
            period: p.clone(),
            previous: before,
        })
    })
}

pub fn table(h: &Hot) -> Table {
    let col = |name, width| Column { name, width };
    let mut rows = Vec::new();
    for (section, list) in [("诉求分类", &h.categories), ("乡镇（街道）", &h.towns)] {
        for t in list {
            rows.push(vec![
                Cell::text(section),
                Cell::text(t.name.clone()),
                Cell::int(t.count),
                Cell::int(t.previous),
                Cell::Number(t.count as f64 - t.previous as f64),
            ]);
        }
    }
    Table {
        title: format!(
            "热点诉求（{} 至 {}，对比 {} 至 {}）",
            h.period.from, h.period.last, h.previous.from, h.previous.last
        ),
        columns: vec![
            col("类别", 12),
            col("热点", 30),
            col("本期", 8),
            col("上期", 8),
            col("增减", 8),
        ],
        rows,
    }
}
