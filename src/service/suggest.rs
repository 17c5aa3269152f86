//! Dispatch suggestions (派单推荐): at intake, the three units most likely to take a matter,
//! learned from the county's own closed orders of the last year — orders whose words are most
//! like this one's (the full-text index's similar-document query) vote for the unit that
//! finished them, weighted by how alike they are, and the latest orders of the same category
//! and town vote too. The admin page shows how often the first and the first three were right
//! on the most recent month, held out, recomputed nightly.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::order_index::{Key, Kind};
use crate::domain::order_state::State;
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
use crate::error::AppError;
use crate::store::{Tx, meta, orders, units};

/// What a suggestion is asked for.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub town: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnitBrief {
    pub id: u64,
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Suggestion {
    pub unit: UnitBrief,
    /// The unit's share of the votes, 0–1.
    pub confidence: f64,
}

/// Similar orders asked of the index; the latest orders of a category, and of a town, read.
const SIMILAR: usize = 60;
const BY_CATEGORY: usize = 150;
const BY_TOWN: usize = 100;
/// The longest text looked at (the title and the start of the content say what it is).
const TEXT_CHARS: usize = 400;
/// How far back the county's history teaches.
const YEAR_MS: i64 = 365 * 86_400_000;

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The votes for units from the orders registered in `[since, until)`.
fn votes(
    app: &App,
    tx: &impl Tx,
    ask: &Ask,
    since: Timestamp,
    until: Timestamp,
) -> Result<HashMap<UnitId, f64>, AppError> {
    let mut votes: HashMap<UnitId, f64> = HashMap::new();
    let town = given(&ask.town);
    // A closed order that went to a unit, registered in the window: its unit.
    let finished = |id| -> Result<Option<(UnitId, Option<String>)>, AppError> {
        let Some(r) = orders::row(tx, id)? else {
            return Ok(None);
        };
        Ok(match (r.state, r.unit) {
            (State::Closed, Some(u)) if r.created_at >= since && r.created_at < until => {
                Some((u, r.town))
            }
            _ => None,
        })
    };
    if let (Some(text), Some(ix)) = (given(&ask.text), app.search.get()) {
        let text: String = text.chars().take(TEXT_CHARS).collect();
        let hits = ix.similar_scored(&text, since, until, SIMILAR)?;
        let top = hits
            .first()
            .map(|(_, s)| *s)
            .unwrap_or(0.0)
            .max(f32::EPSILON);
        for (id, score) in hits {
            if let Some((u, t)) = finished(id)? {
                let same_town = town.is_some() && t.as_deref() == town;
                // The closest orders count most; one from the same town more still.
                let w = f64::from(score / top).powi(2) * if same_town { 1.5 } else { 1.0 };
                *votes.entry(u).or_default() += 3.0 * w;
            }
        }
    }
    if let Some(cat) = given(&ask.category) {
        let prefix = Key::new(Kind::ByCategory).str(cat);
        let ids =
            super::orders::index::between(tx, &prefix, Some(since), Some(until), 0, BY_CATEGORY)?;
        let n = ids.len().max(1) as f64;
        for id in ids {
            if let Some((u, t)) = finished(id)? {
                let same_town = town.is_some() && t.as_deref() == town;
                *votes.entry(u).or_default() += if same_town { 4.0 } else { 2.0 } / n;
            }
        }
    }
    if let Some(t) = town {
        let prefix = Key::new(Kind::ByTown).str(t);
        let ids = super::orders::index::between(tx, &prefix, Some(since), Some(until), 0, BY_TOWN)?;
        let n = ids.len().max(1) as f64;
        for id in ids {
            if let Some((u, _)) = finished(id)? {
                *votes.entry(u).or_default() += 1.0 / n;
            }
        }
    }
    Ok(votes)
}

/// The best three of the votes, with their share, active units only.
fn best(tx: &impl Tx, votes: HashMap<UnitId, f64>) -> Result<Vec<Suggestion>, AppError> {
    let total: f64 = votes.values().sum();
    let mut ranked: Vec<(UnitId, f64)> = votes.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.0.cmp(&b.0.0)));
    let mut out = Vec::new();
    for (u, v) in ranked {
        let Some(unit) = units::get(tx, u)?.filter(|x| !x.disabled) else {
            continue;
        };
        out.push(Suggestion {
            unit: UnitBrief {
                id: unit.id.0,
                code: unit.code,
                name: unit.name,
            },
            confidence: if total > 0.0 {
                (v / total * 100.0).round() / 100.0
            } else {
                0.0
            },
        });
        if out.len() == 3 {
            break;
        }
    }
    Ok(out)
}

/// The three likeliest units for a matter (staff who register calls).
pub fn units_for(app: &App, actor: &Actor, ask: &Ask) -> Result<Vec<Suggestion>, AppError> {
    actor.require(Permission::OrdersCreate)?;
    for (field, v, max) in [
        ("category", &ask.category, 32),
        ("town", &ask.town, 32),
        ("text", &ask.text, 4000),
    ] {
        if v.as_deref().is_some_and(|s| s.chars().count() > max) {
            return Err(AppError::invalid(field, format!("{field} 过长")));
        }
    }
    let now = app.now();
    let since = Timestamp(now.0 - YEAR_MS);
    app.store.read(|tx| {
        let v = votes(app, tx, ask, since, Timestamp(now.0 + 1))?;
        best(tx, v)
    })
}

/// The measured accuracy on the held-out month.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Accuracy {
    pub computed_at: Option<Timestamp>,
    /// The month held out: orders registered in `[from, to)`, suggested from the year before.
    pub from: String,
    pub to: String,
    /// Orders checked (dispatched and closed in that month, the newest first, at most
    /// `EVAL_SAMPLE`).
    pub sample: usize,
    pub top1: usize,
    pub top3: usize,
    /// Percentages, 0–100.
    pub top1_rate: f64,
    pub top3_rate: f64,
}

impl crate::store::codec::Record for Accuracy {
    const KIND: &'static str = "suggest-accuracy";
    const VERSION: u8 = 1;
}

/// Orders of the held-out month checked at most.
const EVAL_SAMPLE: usize = 300;
/// Orders of the month looked at to find them.
const EVAL_SCAN: usize = 3000;

/// Measures the suggestions on the last 30 days: each closed, dispatched order of the month
/// is suggested for from its own category, town and words, learning only from the year before
/// the month; a hit when its final unit is first (top-1) or among the three (top-3).
pub fn evaluate(app: &App) -> Result<Accuracy, AppError> {
    let now = app.now();
    // Up to this midnight (Beijing time).
    let to =
        Timestamp(i64::from(crate::domain::order_index::cst_day(now)) * 86_400_000 - 8 * 3_600_000);
    let from = Timestamp(to.0 - 30 * 86_400_000);
    let since = Timestamp(from.0 - YEAR_MS);
    let mut acc = Accuracy {
        computed_at: Some(now),
        from: from.cst_day(),
        to: to.cst_day(),
        ..Accuracy::default()
    };
    let asks = app
        .store
        .read(|tx| -> Result<Vec<(Ask, UnitId)>, AppError> {
            let mut asks = Vec::new();
            let created = Key::new(Kind::Created);
            for id in
                super::orders::index::between(tx, &created, Some(from), Some(to), 0, EVAL_SCAN)?
            {
                let Some(r) = orders::row(tx, id)? else {
                    continue;
                };
                let (State::Closed, Some(unit)) = (r.state, r.unit) else {
                    continue;
                };
                let Some(o) = orders::get(tx, id)? else {
                    continue;
                };
                asks.push((
                    Ask {
                        category: o.category.clone(),
                        town: o.address.town.clone(),
                        text: Some(format!("{} {}", o.title, o.content)),
                    },
                    unit,
                ));
                if asks.len() >= EVAL_SAMPLE {
                    break;
                }
            }
            Ok(asks)
        })?;
    for (ask, unit) in asks {
        let got = app.store.read(|tx| {
            let v = votes(app, tx, &ask, since, from)?;
            best(tx, v)
        })?;
        acc.sample += 1;
        if got.first().is_some_and(|s| s.unit.id == unit.0) {
            acc.top1 += 1;
        }
        if got.iter().any(|s| s.unit.id == unit.0) {
            acc.top3 += 1;
        }
    }
    if acc.sample > 0 {
        let pct = |n: usize| (n as f64 * 1000.0 / acc.sample as f64).round() / 10.0;
        acc.top1_rate = pct(acc.top1);
        acc.top3_rate = pct(acc.top3);
    }
    app.store
        .write(|tx| meta::put(tx, "suggest-accuracy", &acc))?;
    Ok(acc)
}

/// The last measurement, if any.
pub fn accuracy(app: &App, actor: &Actor) -> Result<Option<Accuracy>, AppError> {
    actor.require(Permission::SettingsManage)?;
    Ok(app.store.read(|tx| meta::get(tx, "suggest-accuracy"))?)
}

/// Measures again now (the admin's button).
pub fn evaluate_as(app: &App, actor: &Actor) -> Result<Accuracy, AppError> {
    actor.require(Permission::SettingsManage)?;
    evaluate(app)
}

/// The nightly run: once a night, between 03:00 and 06:00 Beijing time (the quietest hours;
/// the admin's button measures at any other time).
pub fn nightly(app: &App) -> Option<Result<Accuracy, AppError>> {
    let now = app.now();
    let last: Option<Accuracy> = app
        .store
        .read(|tx| meta::get(tx, "suggest-accuracy"))
        .ok()
        .flatten();
    let hour = (now.0 + 8 * 3_600_000).rem_euclid(86_400_000) / 3_600_000;
    let done_today = last
        .and_then(|a| a.computed_at)
        .is_some_and(|t| t.cst_day() == now.cst_day());
    if !(3..6).contains(&hour) || done_today {
        return None;
    }
    Some(evaluate(app))
}
