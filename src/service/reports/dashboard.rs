//! Each role's live figures on its home page, with a 30-day trend: from counters, the
//! index's bounded ranges and per-day facts, never a scan of orders.

use serde::Serialize;

use super::Period;
use super::chart::{Series, bars_and_line};
use crate::domain::order_facts::{Dim, Measure, Value};
use crate::domain::order_index::{Key, Kind, UnitList, cst_day, day_counter};
use crate::domain::order_state::State;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, facts, orders};

/// The most keys a bounded count reads (a larger backlog shows as "≥").
const CAP: usize = 500;

/// A bounded count: how many, and whether the read stopped at its bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub n: usize,
    pub more: bool,
}

impl Count {
    fn show(self) -> String {
        if self.more {
            format!("≥{}", self.n)
        } else {
            self.n.to_string()
        }
    }

    fn plus(self, o: Count) -> Count {
        Count {
            n: self.n + o.n,
            more: self.more || o.more,
        }
    }
}

/// Counts the home page's queues already read (the supervisor's overdue and due-soon lists),
/// so the figures do not read them again.
#[derive(Clone, Copy, Debug, Default)]
pub struct Known {
    pub overdue: Option<Count>,
    pub due_soon: Option<Count>,
}
/// Days of the trend chart.
const DAYS: u32 = 30;

#[derive(Serialize)]
pub struct Tile {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    /// Where the figure's orders are listed, if anywhere.
    pub href: Option<String>,
    /// `bad` for figures that want attention when above zero.
    pub tone: &'static str,
}

#[derive(Serialize)]
pub struct Dashboard {
    pub tiles: Vec<Tile>,
    /// The 30-day trend as SVG (ours, escaped: safe to embed).
    pub chart: String,
    pub chart_title: &'static str,
}

fn tile(key: &'static str, label: &'static str, value: String, href: Option<String>) -> Tile {
    Tile {
        key,
        label,
        value,
        href,
        tone: "",
    }
}

fn before(tx: &impl Tx, prefix: Key, t: Timestamp) -> Result<Count, AppError> {
    let hi = prefix.clone().time(t).bytes();
    let n = orders::keys_between(tx, prefix.as_slice(), &hi, false, CAP)?.len();
    Ok(Count { n, more: n >= CAP })
}

/// The satisfaction rate of callbacks by level, as the assessment rules count it.
fn sat_rate(tx: &impl Tx, callbacks: &[u64; 6]) -> Result<Option<f64>, AppError> {
    let rules = super::units::rules_in(tx)?;
    let sums = crate::domain::assessment::Sums {
        callbacks: *callbacks,
        ..Default::default()
    };
    Ok(crate::domain::assessment::figures(&sums, &rules).satisfaction_rate)
}

fn percent(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{r}%"))
}

/// The live figures and trend for the actor's role.
pub fn for_actor(app: &App, actor: &Actor, known: Known) -> Result<Dashboard, AppError> {
    let now = app.now();
    let month = Period::parse(None, None, now)?;
    app.store.read(|tx| -> Result<Dashboard, AppError> {
        let today = cst_day(now);
        let first = today.saturating_sub(DAYS - 1);
        match (actor.role, actor.unit) {
            (Role::Unit, Some(unit)) => {
                let q = |l: UnitList| Key::new(Kind::UnitQueue).u64(unit.0).u8(l as u8);
                let to_sign = orders::count(tx, q(UnitList::ToSign).as_slice())?;
                let doing = orders::count(tx, q(UnitList::InProgress).as_slice())?;
                let late = match known.overdue {
                    Some(c) => c,
                    None => before(tx, q(UnitList::ToSign), now)?.plus(before(
                        tx,
                        q(UnitList::InProgress),
                        now,
                    )?),
                };
                let value = Value::Id(unit.0);
                let mut sat = [0u64; 6];
                let (mut dispatched, mut finished) =
                    (vec![0; DAYS as usize], vec![0; DAYS as usize]);
                let mut month_finished = 0;
                for (f, n) in
                    facts::read_value(tx, Dim::Unit, &value, first.min(month.from_day), today)?
                {
                    let in_month = f.day >= month.from_day;
                    let i = f.day.checked_sub(first).map(|i| i as usize);
                    match f.measure {
                        Measure::Dispatched => add(&mut dispatched, i, n),
                        Measure::Finished => {
                            add(&mut finished, i, n);
                            if in_month {
                                month_finished += n;
                            }
                        }
                        Measure::Callback if in_month => {
                            if let Some(s) = sat.get_mut(f.sub as usize) {
                                *s += n;
                            }
                        }
                        _ => {}
                    }
                }
                let mut tiles = vec![
                    tile(
                        "to_sign",
                        "待签收",
                        to_sign.to_string(),
                        Some("/#q-to_sign".into()),
                    ),
                    tile(
                        "in_progress",
                        "办理中",
                        doing.to_string(),
                        Some("/#q-in_progress".into()),
                    ),
                    tile("overdue", "超期", late.show(), None),
                ];
                if let Some(soon) = known.due_soon {
                    tiles.push(tile("due_soon", "临期", soon.show(), None));
                }
                tiles.extend([
                    tile(
                        "finished_month",
                        "本月办结",
                        month_finished.to_string(),
                        None,
                    ),
                    tile(
                        "satisfaction_month",
                        "本月满意率",
                        percent(sat_rate(tx, &sat)?),
                        None,
                    ),
                ]);
                tiles[2].tone = if late.n > 0 { "bad" } else { "" };
                Ok(Dashboard {
                    tiles,
                    chart: trend(first, &dispatched, &finished, "派单", "答复"),
                    chart_title: "近 30 天派给本单位和本单位答复的工单",
                })
            }
            _ => {
                let created = Key::new(Kind::Created);
                let intake: Vec<u64> = orders::counts_of(
                    tx,
                    &(first..=today)
                        .map(|d| day_counter(created.as_slice(), d))
                        .collect::<Vec<_>>(),
                )?;
                let to_dispatch = orders::count(
                    tx,
                    Key::new(Kind::ByState)
                        .str(State::Registered.code())
                        .as_slice(),
                )?;
                let due = |s: State| Key::new(Kind::StateDue).str(s.code());
                let late = match known.overdue {
                    Some(c) => c,
                    None => before(tx, due(State::Dispatched), now)?.plus(before(
                        tx,
                        due(State::InProgress),
                        now,
                    )?),
                };
                // Running deadlines in their last quarter or past: less the late ones.
                let soon = match known.due_soon {
                    Some(c) => c,
                    None => {
                        let entered = before(tx, Key::new(Kind::SoonAt), now.plus_secs(1))?;
                        Count {
                            n: entered.n.saturating_sub(late.n),
                            more: entered.more || late.more,
                        }
                    }
                };
                let callbacks = orders::count(tx, Key::new(Kind::Callback).as_slice())?;
                let mut sat = [0u64; 6];
                let mut closed = vec![0; DAYS as usize];
                facts::fold(tx, Dim::Centre, first.min(month.from_day), today, |f, n| {
                    let i = f.day.checked_sub(first).map(|i| i as usize);
                    match f.measure {
                        Measure::Closed => add(&mut closed, i, n),
                        Measure::Callback if f.day >= month.from_day => {
                            if let Some(s) = sat.get_mut(f.sub as usize) {
                                *s += n;
                            }
                        }
                        _ => {}
                    }
                })?;
                let mut tiles = vec![
                    tile(
                        "intake_today",
                        "今日受理",
                        intake.last().copied().unwrap_or(0).to_string(),
                        Some(format!(
                            "/orders?from={}",
                            Timestamp(i64::from(today) * 86_400_000).cst_day()
                        )),
                    ),
                    tile(
                        "to_dispatch",
                        "待派单",
                        to_dispatch.to_string(),
                        Some("/orders?state=registered".into()),
                    ),
                    tile("due_soon", "临期", soon.show(), None),
                    tile("overdue", "超期", late.show(), None),
                    tile("callbacks", "待回访", callbacks.to_string(), None),
                    tile(
                        "satisfaction_month",
                        "本月满意率",
                        percent(sat_rate(tx, &sat)?),
                        None,
                    ),
                ];
                tiles[3].tone = if late.n > 0 { "bad" } else { "" };
                Ok(Dashboard {
                    tiles,
                    chart: trend(first, &intake, &closed, "受理", "办结"),
                    chart_title: "近 30 天受理和办结的工单",
                })
            }
        }
    })
}

fn add(v: &mut [u64], i: Option<usize>, n: u64) {
    if let Some(x) = i.and_then(|i| v.get_mut(i)) {
        *x += n;
    }
}

fn trend(first: u32, bars: &[u64], line: &[u64], bar_name: &str, line_name: &str) -> String {
    let labels: Vec<String> = (0..bars.len() as u32)
        .map(|i| {
            let day = Timestamp(i64::from(first + i) * 86_400_000).cst_day();
            day.get(5..).unwrap_or(&day).to_string()
        })
        .collect();
    bars_and_line(
        "近 30 天趋势",
        &labels,
        Series {
            name: bar_name,
            values: bars,
        },
        Series {
            name: line_name,
            values: line,
        },
    )
}
