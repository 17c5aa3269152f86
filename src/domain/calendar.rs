//! The work calendar: holidays, 调休 make-up working days, working hours, and deadline
//! arithmetic in working time or calendar time. All in Beijing time (+08:00).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use super::time::{CST, Timestamp};

/// One year's official changes to the Monday–Friday week.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearCalendar {
    /// Days off (`YYYY-MM-DD`), weekends included where the notice lists them.
    pub holidays: BTreeSet<String>,
    /// Weekend days that are working days (调休上班).
    pub workdays: BTreeSet<String>,
}

/// The calendar the office maintains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub years: BTreeMap<i32, YearCalendar>,
    /// Working periods of a working day, minutes after midnight, in order.
    pub hours: Vec<(u16, u16)>,
}

/// How a limit is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "value")]
pub enum Span {
    /// Calendar minutes, around the clock.
    Minutes(i64),
    /// Working days of working hours (a working day is the sum of the working periods).
    WorkingDays(u32),
}

/// A computed deadline: when it started, when it becomes due-soon (last 25 %), when it is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub start: Timestamp,
    pub soon_at: Timestamp,
    pub due: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    Ok,
    DueSoon,
    Overdue,
}

impl Deadline {
    pub fn state(&self, now: Timestamp) -> DueState {
        if now > self.due {
            DueState::Overdue
        } else if now >= self.soon_at {
            DueState::DueSoon
        } else {
            DueState::Ok
        }
    }

    /// Never later than `bound` (a platform's own deadline).
    pub fn bounded(self, bound: Option<Timestamp>) -> Deadline {
        match bound {
            Some(b) if b < self.due => Deadline {
                due: b,
                soon_at: self.soon_at.min(b),
                ..self
            },
            _ => self,
        }
    }
}

fn date_str(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A real day within the accepted years (the one parser, in `time`).
pub fn parse_date(s: &str) -> Option<Date> {
    super::time::parse_day(s)
}

/// Beijing wall-clock time; an instant beyond what `time` represents counts as the epoch
/// (such instants are refused at input; this keeps arithmetic on old records total).
fn to_cst(t: Timestamp) -> PrimitiveDateTime {
    let odt = t
        .to_cst()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH.to_offset(UtcOffset::UTC));
    PrimitiveDateTime::new(odt.date(), odt.time())
}

fn from_cst(p: PrimitiveDateTime) -> Timestamp {
    let ms = p.assume_offset(CST).unix_timestamp_nanos() / 1_000_000;
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn at_minute(d: Date, minute: u16) -> PrimitiveDateTime {
    let t = Time::from_hms(
        u8::try_from(minute / 60).unwrap_or(23),
        u8::try_from(minute % 60).unwrap_or(0),
        0,
    )
    .unwrap_or(Time::MIDNIGHT);
    PrimitiveDateTime::new(d, t)
}

/// Days searched before giving up on finding working time (a calendar with none).
const SEARCH_DAYS: i64 = 3660;

impl Calendar {
    /// Working minutes in one working day.
    pub fn day_minutes(&self) -> i64 {
        self.hours
            .iter()
            .map(|(a, b)| i64::from(b.saturating_sub(*a)))
            .sum()
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        let key = date_str(d);
        if let Some(y) = self.years.get(&d.year()) {
            if y.workdays.contains(&key) {
                return true;
            }
            if y.holidays.contains(&key) {
                return false;
            }
        }
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The instant `minutes` of working time after `start`.
    pub fn add_working_minutes(&self, start: Timestamp, minutes: i64) -> Timestamp {
        if self.day_minutes() <= 0 {
            return start.plus_secs(minutes * 60);
        }
        let mut left = minutes.max(0) * 60;
        let p = to_cst(start);
        let mut day = p.date();
        let mut from =
            i64::from(p.hour()) * 3600 + i64::from(p.minute()) * 60 + i64::from(p.second());
        for _ in 0..SEARCH_DAYS {
            if self.is_working_day(day) {
                for &(a, b) in &self.hours {
                    let (a, b) = (i64::from(a) * 60, i64::from(b) * 60);
                    if from >= b {
                        continue;
                    }
                    let begin = from.max(a);
                    let avail = b - begin;
                    if left <= avail {
                        return from_cst(at_minute(day, 0)).plus_secs(begin + left);
                    }
                    left -= avail;
                }
            }
            day = match day.next_day() {
                Some(d) => d,
                None => break,
            };
            from = 0;
        }
        start.plus_secs(minutes * 60)
    }

    /// A deadline of `span` starting at `start`.
    pub fn deadline(&self, start: Timestamp, span: Span) -> Deadline {
        match span {
            Span::Minutes(m) => Deadline {
                start,
                soon_at: start.plus_secs(m * 60 * 3 / 4),
                due: start.plus_secs(m * 60),
            },
            Span::WorkingDays(d) => {
                let total = i64::from(d) * self.day_minutes();
                Deadline {
                    start,
                    soon_at: self.add_working_minutes(start, total * 3 / 4),
                    due: self.add_working_minutes(start, total),
                }
            }
        }
    }

    /// Moves a due date on by `days` working days (an approved extension).
    pub fn extend(&self, d: Deadline, days: u32) -> Deadline {
        let due = self.add_working_minutes(d.due, i64::from(days) * self.day_minutes());
        Deadline {
            start: d.start,
            soon_at: due,
            due,
        }
        .with_soon_quarter(self)
    }

    /// The end of the `n`th working day after the one `t` falls in.
    pub fn end_of_working_day_after(&self, t: Timestamp, n: u32) -> Timestamp {
        let mut day = to_cst(t).date();
        let mut found = 0;
        for _ in 0..SEARCH_DAYS {
            day = match day.next_day() {
                Some(d) => d,
                None => break,
            };
            if self.is_working_day(day) {
                found += 1;
                if found >= n {
                    let end = self.hours.last().map(|h| h.1).unwrap_or(17 * 60 + 30);
                    return from_cst(at_minute(day, end));
                }
            }
        }
        t.plus_secs(i64::from(n) * 86400)
    }

    /// Whole working days from `a` to `b` (for the return window), counting partial days.
    pub fn working_days_between(&self, a: Timestamp, b: Timestamp) -> f64 {
        if b <= a || self.day_minutes() <= 0 {
            return 0.0;
        }
        // Binary search on working minutes: small ranges, exact enough.
        let (mut lo, mut hi) = (0i64, self.day_minutes() * 400);
        while lo < hi {
            let mid = (lo + hi + 1) / 2;
            if self.add_working_minutes(a, mid) <= b {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo as f64 / self.day_minutes() as f64
    }

    pub fn set_day(&mut self, d: Date, working: bool) {
        let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
        let y = self.years.entry(d.year()).or_default();
        let key = date_str(d);
        y.holidays.remove(&key);
        y.workdays.remove(&key);
        match (weekend, working) {
            (true, true) => {
                y.workdays.insert(key);
            }
            (false, false) => {
                y.holidays.insert(key);
            }
            _ => {}
        }
    }
}

impl Deadline {
    fn with_soon_quarter(self, cal: &Calendar) -> Deadline {
        // Due-soon is the last quarter of the whole (extended) span, in working time.
        let total =
            (cal.working_days_between(self.start, self.due) * cal.day_minutes() as f64) as i64;
        Deadline {
            soon_at: cal.add_working_minutes(self.start, total * 3 / 4),
            ..self
        }
    }
}

fn days(year: i32, list: &[(u8, u8)]) -> BTreeSet<String> {
    list.iter()
        .filter_map(|(m, d)| Date::from_calendar_date(year, Month::try_from(*m).ok()?, *d).ok())
        .map(date_str)
        .collect()
}

fn range(m: u8, from: u8, to: u8) -> Vec<(u8, u8)> {
    (from..=to).map(|d| (m, d)).collect()
}

impl Default for Calendar {
    /// 2026 as published by the State Council (国务院办公厅, 2025-11-04); 8:30–12:00, 14:30–17:30.
    fn default() -> Self {
        let mut off = Vec::new();
        off.extend(range(1, 1, 3));
        off.extend(range(2, 15, 23));
        off.extend(range(4, 4, 6));
        off.extend(range(5, 1, 5));
        off.extend(range(6, 19, 21));
        off.extend(range(9, 25, 27));
        off.extend(range(10, 1, 7));
        let on = [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)];
        let mut years = BTreeMap::new();
        years.insert(
            2026,
            YearCalendar {
                holidays: days(2026, &off),
                workdays: days(2026, &on),
            },
        );
        Calendar {
            years,
            hours: vec![(8 * 60 + 30, 12 * 60), (14 * 60 + 30, 17 * 60 + 30)],
        }
    }
}

/// Adds whole calendar days (used by tests and callers that think in days).
pub fn plus_days(t: Timestamp, n: i64) -> Timestamp {
    t.plus_secs(Duration::days(n).whole_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Beijing wall-clock time to a timestamp.
    fn bj(y: i32, m: u8, d: u8, h: u8, min: u8) -> Timestamp {
        let date = Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap();
        from_cst(PrimitiveDateTime::new(
            date,
            Time::from_hms(h, min, 0).unwrap(),
        ))
    }

    fn show(t: Timestamp) -> String {
        t.display_cst()
    }

    #[test]
    fn the_2026_calendar() {
        let c = Calendar::default();
        let day = |m, d| Date::from_calendar_date(2026, Month::try_from(m).unwrap(), d).unwrap();
        assert!(!c.is_working_day(day(1, 1)), "元旦");
        assert!(c.is_working_day(day(1, 4)), "Sunday make-up day");
        assert!(c.is_working_day(day(2, 14)), "Saturday make-up day");
        assert!(!c.is_working_day(day(2, 16)), "春节");
        assert!(!c.is_working_day(day(10, 7)));
        assert!(c.is_working_day(day(10, 10)), "Saturday make-up day");
        assert!(!c.is_working_day(day(11, 28)), "an ordinary Saturday");
        assert!(c.is_working_day(day(11, 30)), "an ordinary Monday");
        assert_eq!(c.day_minutes(), 390);
        assert!(c.has_year(2026) && !c.has_year(2027));
    }

    #[test]
    fn working_time_arithmetic() {
        let c = Calendar::default();
        // Monday 10:00 + 1 working day = Tuesday 10:00.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 30, 10, 0), 390)),
            "2026-12-01 10:00:00"
        );
        // Friday 16:00 + 1 working day = Monday 16:00.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 27, 16, 0), 390)),
            "2026-11-30 16:00:00"
        );
        // Before opening: counting starts at 8:30.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 30, 7, 0), 60)),
            "2026-11-30 09:30:00"
        );
        // Across lunch: 11:30 + 1 h = 15:00.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 30, 11, 30), 60)),
            "2026-11-30 15:00:00"
        );
        // During lunch: counting starts at 14:30.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 30, 12, 40), 30)),
            "2026-11-30 15:00:00"
        );
        // After closing: next working day 8:30.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 30, 18, 0), 30)),
            "2026-12-01 09:00:00"
        );
        // A deadline can fall exactly at the end of a period.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 30, 10, 0), 120)),
            "2026-11-30 12:00:00"
        );
        // Over the National Day holiday: Wed 30 Sep 16:00 + 1 day → Thu 8 Oct 16:00.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 9, 30, 16, 0), 390)),
            "2026-10-08 16:00:00"
        );
        // A make-up Saturday counts: Fri 13 Feb 2026 16:00 + 1 day → Sat 14 Feb 16:00.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 2, 13, 16, 0), 390)),
            "2026-02-14 16:00:00"
        );
        // 5 working days from a Monday at 9:00 → the next Monday at 9:00.
        assert_eq!(
            show(c.add_working_minutes(bj(2026, 11, 30, 9, 0), 5 * 390)),
            "2026-12-07 09:00:00"
        );
    }

    #[test]
    fn deadlines_due_soon_and_overdue() {
        let c = Calendar::default();
        let start = bj(2026, 11, 30, 9, 0);
        let d = c.deadline(start, Span::WorkingDays(1));
        assert_eq!(show(d.due), "2026-12-01 09:00:00");
        // 75 % of 390 min = 292 min: 180 before lunch, 112 after 14:30 → 16:22.
        assert_eq!(show(d.soon_at), "2026-11-30 16:22:00");
        assert_eq!(d.state(bj(2026, 11, 30, 16, 0)), DueState::Ok);
        assert_eq!(d.state(bj(2026, 11, 30, 16, 30)), DueState::DueSoon);
        assert_eq!(d.state(bj(2026, 12, 1, 9, 1)), DueState::Overdue);
        let m = c.deadline(start, Span::Minutes(30));
        assert_eq!(show(m.due), "2026-11-30 09:30:00");
        // A platform's own deadline bounds the county's.
        let b = d.bounded(Some(bj(2026, 11, 30, 17, 0)));
        assert_eq!(show(b.due), "2026-11-30 17:00:00");
        // An extension of 2 working days.
        let e = c.extend(d, 2);
        assert_eq!(show(e.due), "2026-12-03 09:00:00");
        assert!(e.soon_at > d.soon_at && e.soon_at < e.due);
        // Return window and callback day.
        assert!((c.working_days_between(start, bj(2026, 12, 2, 9, 0)) - 2.0).abs() < 0.01);
        assert_eq!(
            show(c.end_of_working_day_after(bj(2026, 11, 27, 10, 0), 1)),
            "2026-11-30 17:30:00"
        );
    }

    #[test]
    fn toggling_days() {
        let mut c = Calendar::default();
        let sat = Date::from_calendar_date(2027, Month::January, 9).unwrap();
        let mon = Date::from_calendar_date(2027, Month::January, 11).unwrap();
        assert!(!c.is_working_day(sat));
        c.set_day(sat, true);
        c.set_day(mon, false);
        assert!(c.is_working_day(sat));
        assert!(!c.is_working_day(mon));
        c.set_day(mon, true);
        assert!(c.is_working_day(mon));
        assert!(c.years[&2027].holidays.is_empty());
    }
}
