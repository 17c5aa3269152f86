//! The duty roster (排班): the four seats round the clock, planned by week. A week has its
//! shifts (班次: 早班 08–16, 中班 16–24, 夜班 0–8 by default) and, for each day, shift and
//! seat, the operator planned there. Deadlines never read it: a call taken at night starts its
//! clock as any other does.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;
use super::user::UserId;

pub use super::session::SEATS;

/// A shift of the day: its name and clock times (`end` may be `24:00`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub name: String,
    pub start: String,
    pub end: String,
}

impl Slot {
    /// Minutes from midnight of the start and the end.
    pub fn minutes(&self) -> Option<(u32, u32)> {
        let s = hm(&self.start)?;
        let e = hm(&self.end)?;
        (s < e).then_some((s, e))
    }
}

fn hm(s: &str) -> Option<u32> {
    if s.trim() == "24:00" {
        return Some(1440);
    }
    let (h, m) = super::settings::parse_hm(s)?;
    Some(h * 60 + m)
}

/// The centre's usual three shifts.
pub fn default_slots() -> Vec<Slot> {
    [
        ("早班", "08:00", "16:00"),
        ("中班", "16:00", "24:00"),
        ("夜班", "00:00", "08:00"),
    ]
    .iter()
    .map(|(n, s, e)| Slot {
        name: (*n).into(),
        start: (*s).into(),
        end: (*e).into(),
    })
    .collect()
}

/// Shifts must cover the whole day once: 1 to 4 of them, named, no gap, no overlap.
pub fn check_slots(slots: &[Slot]) -> Result<(), String> {
    if slots.is_empty() || slots.len() > 4 {
        return Err("班次须为 1—4 个".into());
    }
    let mut spans = Vec::new();
    for s in slots {
        let n = s.name.trim().chars().count();
        if n == 0 || n > 8 {
            return Err("班次名称须为 1—8 个字".into());
        }
        spans.push(s.minutes().ok_or_else(|| {
            format!(
                "班次「{}」的时间应为 时:分，开始早于结束（结束可为 24:00）",
                s.name
            )
        })?);
    }
    spans.sort();
    let mut at = 0;
    for (s, e) in spans {
        if s != at {
            return Err("班次须连成一整天（00:00—24:00），不重叠、不留空档".into());
        }
        at = e;
    }
    if at != 1440 {
        return Err("班次须连成一整天（00:00—24:00），不重叠、不留空档".into());
    }
    Ok(())
}

/// Who is planned where: day of the week (0 = Monday), shift (index into the slots), seat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Place {
    pub day: u8,
    pub slot: u8,
    pub seat: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub at: Place,
    pub user: UserId,
}

/// One week's plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Week {
    /// `YYYY-Www` (ISO week).
    pub week: String,
    pub slots: Vec<Slot>,
    pub cells: Vec<Assignment>,
    pub version: u64,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_by: Option<UserId>,
}

impl crate::store::codec::Record for Week {
    const KIND: &'static str = "roster-week";
    const VERSION: u8 = 1;
}

impl Week {
    pub fn empty(week: &str) -> Week {
        Week {
            week: week.to_string(),
            slots: default_slots(),
            cells: Vec::new(),
            version: 0,
            updated_at: None,
            updated_by: None,
        }
    }

    pub fn who(&self, at: Place) -> Option<UserId> {
        self.cells.iter().find(|c| c.at == at).map(|c| c.user)
    }

    /// Puts `user` at `at` (none clears it).
    pub fn set(&mut self, at: Place, user: Option<UserId>) {
        self.cells.retain(|c| c.at != at);
        if let Some(u) = user {
            self.cells.push(Assignment { at, user: u });
            self.cells.sort_by_key(|c| c.at);
        }
    }

    /// Whether a place exists in this week's grid.
    pub fn holds(&self, at: Place) -> bool {
        at.day < 7 && usize::from(at.slot) < self.slots.len() && (1..=SEATS).contains(&at.seat)
    }

    /// The shift running at `minute` of a day.
    pub fn slot_at(&self, minute: u32) -> Option<u8> {
        self.slots
            .iter()
            .position(|s| s.minutes().is_some_and(|(a, b)| a <= minute && minute < b))
            .and_then(|i| u8::try_from(i).ok())
    }
}

/// An ISO week `YYYY-Www` as (year, week), for the years the product keeps (2000–2099).
pub fn parse_week(s: &str) -> Option<(i32, u8)> {
    let (y, w) = s.trim().split_once("-W")?;
    if y.len() != 4 || w.len() != 2 {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    let week: u8 = w.parse().ok()?;
    if !(2000..=2099).contains(&year) {
        return None;
    }
    time::Date::from_iso_week_date(year, week, time::Weekday::Monday).ok()?;
    Some((year, week))
}

/// The Monday of a week.
pub fn monday(year: i32, week: u8) -> Option<time::Date> {
    time::Date::from_iso_week_date(year, week, time::Weekday::Monday).ok()
}

/// `YYYY-Www` of a date.
pub fn week_of_date(d: time::Date) -> String {
    let (y, w, _) = d.to_iso_week_date();
    format!("{y:04}-W{w:02}")
}

/// The week, weekday (0 = Monday) and minute of the day of a moment, Beijing time.
pub fn locate(t: Timestamp) -> Option<(String, u8, u32)> {
    let dt = t.to_cst()?;
    let day = dt.date();
    Some((
        week_of_date(day),
        day.weekday().number_days_from_monday(),
        u32::from(dt.hour()) * 60 + u32::from(dt.minute()),
    ))
}

/// The week before or after.
pub fn shift_week(week: &str, by: i64) -> Option<String> {
    let (y, w) = parse_week(week)?;
    let d = monday(y, w)?.checked_add(time::Duration::days(7 * by))?;
    Some(week_of_date(d))
}

/// A swap asked for (换班): the asker's shift for another's, or given to a colleague.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swap {
    pub id: u64,
    pub requester: UserId,
    pub week: String,
    pub at: Place,
    /// The other operator's shift taken in exchange (same or another week)…
    #[serde(default)]
    pub with: Option<(String, Place)>,
    /// …or the colleague who takes the shift over.
    #[serde(default)]
    pub to_user: Option<UserId>,
    pub reason: String,
    pub state: SwapState,
    pub asked_at: Timestamp,
    #[serde(default)]
    pub decided_by: Option<UserId>,
    #[serde(default)]
    pub decided_at: Option<Timestamp>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwapState {
    Pending,
    Approved,
    Rejected,
}

impl SwapState {
    pub fn label(self) -> &'static str {
        match self {
            SwapState::Pending => "待审批",
            SwapState::Approved => "已同意",
            SwapState::Rejected => "未同意",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_and_slots() {
        assert_eq!(parse_week("2026-W49"), Some((2026, 49)));
        assert_eq!(parse_week("2026-W53"), Some((2026, 53)));
        assert_eq!(parse_week("2025-W53"), None, "2025 has 52 ISO weeks");
        for bad in ["", "2026-49", "2026-W9", "2026-W00", "1999-W10", "2026-W4x"] {
            assert_eq!(parse_week(bad), None, "{bad}");
        }
        assert_eq!(shift_week("2026-W01", -1).as_deref(), Some("2025-W52"));
        assert_eq!(shift_week("2026-W53", 1).as_deref(), Some("2027-W01"));
        assert_eq!(check_slots(&default_slots()), Ok(()));
        let mut gap = default_slots();
        gap[0].end = "15:00".into();
        assert!(check_slots(&gap).is_err());
        let two = vec![
            Slot {
                name: "白班".into(),
                start: "08:00".into(),
                end: "20:00".into(),
            },
            Slot {
                name: "夜班".into(),
                start: "20:00".into(),
                end: "24:00".into(),
            },
        ];
        assert!(check_slots(&two).is_err(), "00:00—08:00 uncovered");
        let w = Week::empty("2026-W49");
        assert_eq!(w.slot_at(0), Some(2));
        assert_eq!(w.slot_at(8 * 60), Some(0));
        assert_eq!(w.slot_at(23 * 60 + 59), Some(1));
        // 2026-12-04 01:30 Beijing is a Friday of week 49, in the night shift.
        let t = Timestamp::from_secs(1_796_319_000);
        assert_eq!(locate(t), Some(("2026-W49".into(), 4, 90)));
    }
}
