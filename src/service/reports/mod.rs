//! Reports (报表): unit assessment, and the period every report is asked for. Every report
//! reads per-day facts and counters (`store::facts`, the index), never the orders.

pub mod bulletin;
pub mod cases;
pub mod chart;
pub mod dashboard;
pub mod hot;
pub mod operators;
pub mod table;
pub mod units;

use serde::Serialize;

use crate::domain::order_index::cst_day;
use crate::domain::time::{Timestamp, day_string, parse_day};
use crate::error::AppError;

/// The longest period a report covers (ten years of days).
const MAX_DAYS: u32 = 3_660;

/// A report's period: Beijing days `from` (included) to `to` (excluded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: String,
    pub to: String,
    /// The last day included, for people (`to` is exclusive).
    pub last: String,
    #[serde(skip)]
    pub from_day: u32,
    #[serde(skip)]
    pub to_day: u32,
    #[serde(skip)]
    pub start: Timestamp,
    #[serde(skip)]
    pub end: Timestamp,
}

impl Period {
    /// From `from` to `to` (`YYYY-MM-DD`, `to` exclusive); either missing: this month.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: Timestamp) -> Result<Period, AppError> {
        let field = |name: &'static str, v: Option<&str>| -> Result<Option<time::Date>, AppError> {
            match v.map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => parse_day(s)
                    .map(Some)
                    .ok_or_else(|| AppError::invalid(name, "日期应为 YYYY-MM-DD，如 2026-11-01")),
            }
        };
        let (f, t) = (field("from", from)?, field("to", to)?);
        let (f, t) = match (f, t) {
            (Some(f), Some(t)) => (f, t),
            (f, t) => {
                let (first, next) = month_of(now);
                (f.unwrap_or(first), t.unwrap_or(next))
            }
        };
        if t <= f {
            return Err(AppError::invalid("to", "结束日期须晚于开始日期"));
        }
        let start = Timestamp::parse_cst_date(&day_string(f))
            .ok_or_else(|| AppError::invalid("from", "日期超出范围"))?;
        let end = Timestamp::parse_cst_date(&day_string(t))
            .ok_or_else(|| AppError::invalid("to", "日期超出范围"))?;
        let (from_day, to_day) = (cst_day(start), cst_day(end));
        if to_day - from_day > MAX_DAYS {
            return Err(AppError::invalid("to", "统计期间不能超过 10 年"));
        }
        Ok(Period {
            from: day_string(f),
            to: day_string(t),
            last: day_string(t.previous_day().unwrap_or(t)),
            from_day,
            to_day,
            start,
            end,
        })
    }
}

/// The date-range shortcuts of every report page: (label, from, to exclusive).
pub fn shortcuts(now: Timestamp) -> Vec<(&'static str, String, String)> {
    let today = now.to_cst().map(|t| t.date()).unwrap_or(time::Date::MIN);
    let tomorrow = today.next_day().unwrap_or(today);
    let monday = today
        .checked_sub(time::Duration::days(i64::from(
            today.weekday().number_days_from_monday(),
        )))
        .unwrap_or(today);
    let (month, next_month) = month_of(now);
    let last_month = month
        .previous_day()
        .and_then(|d| d.replace_day(1).ok())
        .unwrap_or(month);
    let quarter = month
        .replace_month(
            time::Month::try_from(((u8::from(month.month()) - 1) / 3) * 3 + 1)
                .unwrap_or(time::Month::January),
        )
        .unwrap_or(month);
    let d = day_string;
    vec![
        ("本日", d(today), d(tomorrow)),
        ("本周", d(monday), d(tomorrow)),
        ("本月", d(month), d(next_month)),
        ("上月", d(last_month), d(month)),
        ("本季度", d(quarter), d(next_month)),
    ]
}

/// The first day of `now`'s month and of the next one (Beijing time).
fn month_of(now: Timestamp) -> (time::Date, time::Date) {
    let today = now.to_cst().map(|t| t.date()).unwrap_or(time::Date::MIN);
    let first = today.replace_day(1).unwrap_or(today);
    let next = match first.month() {
        time::Month::December => first
            .replace_year(first.year() + 1)
            .and_then(|d| d.replace_month(time::Month::January)),
        m => first.replace_month(m.next()),
    }
    .unwrap_or(first);
    (first, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_cover_today_the_week_the_months_and_the_quarter() {
        // Thursday 2026-12-03.
        let now = Timestamp::parse_local("2026-12-03 10:00").unwrap_or(Timestamp(0));
        let s: Vec<(&str, String, String)> = shortcuts(now);
        let want = [
            ("本日", "2026-12-03", "2026-12-04"),
            ("本周", "2026-11-30", "2026-12-04"),
            ("本月", "2026-12-01", "2027-01-01"),
            ("上月", "2026-11-01", "2026-12-01"),
            ("本季度", "2026-10-01", "2027-01-01"),
        ];
        for ((l, f, t), (wl, wf, wt)) in s.iter().zip(want) {
            assert_eq!((*l, f.as_str(), t.as_str()), (wl, wf, wt));
        }
    }

    #[test]
    fn periods_default_to_the_month_and_refuse_what_is_not_one() {
        let now = Timestamp::parse_local("2026-12-31 23:30").unwrap_or(Timestamp(0));
        let p = Period::parse(None, None, now).ok();
        let p = p
            .as_ref()
            .map(|p| (p.from.as_str(), p.to.as_str(), p.last.as_str()));
        assert_eq!(p, Some(("2026-12-01", "2027-01-01", "2026-12-31")));
        let p = Period::parse(Some("2026-11-01"), Some("2026-11-08"), now).ok();
        assert_eq!(p.map(|p| p.to_day - p.from_day), Some(7));
        for (f, t) in [
            ("2026-11-08", "2026-11-01"),
            ("2026-11-01", "2026-11-01"),
            ("2026-13-01", "2026-12-01"),
            ("x", "2026-12-01"),
            ("2000-01-01", "2099-01-01"),
        ] {
            assert!(Period::parse(Some(f), Some(t), now).is_err(), "{f}..{t}");
        }
    }
}
