//! Instants in UTC and their display in China Standard Time (a fixed +08:00, no DST since 1991).

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset, macros::format_description};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Asia/Shanghai has been a fixed +08:00 since 1991.
pub const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

impl Timestamp {
    pub fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }
    /// Beijing wall-clock time; `None` only for instants outside what `time` represents
    /// (never a panic, whatever a record holds).
    pub fn to_cst(self) -> Option<OffsetDateTime> {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.checked_to_offset(CST))
    }
    /// Whether the instant lies in the years the product accepts from outside.
    pub fn in_range(self) -> bool {
        self.to_cst()
            .is_some_and(|t| (MIN_YEAR..=MAX_YEAR).contains(&t.year()))
    }
    /// `2026-11-28 14:05:09` in Beijing time.
    pub fn display_cst(self) -> String {
        let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        self.to_cst()
            .and_then(|t| t.format(&fmt).ok())
            .unwrap_or_else(|| "-".to_string())
    }
    /// `2026-11-28`, the Beijing day (or `-` for an instant out of range).
    pub fn cst_day(self) -> String {
        self.to_cst()
            .map(|t| day_string(t.date()))
            .unwrap_or_else(|| "-".to_string())
    }
    /// `20261128140509`: Beijing time as digits, for file names and order numbers (all
    /// zeros for an instant out of range).
    pub fn cst_digits(self) -> String {
        self.to_cst()
            .map(|t| {
                format!(
                    "{:04}{:02}{:02}{:02}{:02}{:02}",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            })
            .unwrap_or_else(|| "0".repeat(14))
    }
    /// RFC 3339 with the +08:00 offset, for APIs.
    pub fn rfc3339_cst(self) -> String {
        let fmt = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
        );
        self.to_cst()
            .and_then(|t| t.format(&fmt).ok())
            .unwrap_or_default()
    }
    /// Start of a `YYYY-MM-DD` day in Beijing time (see `parse_day`).
    pub fn parse_cst_date(s: &str) -> Option<Self> {
        let date = parse_day(s)?;
        let t = date.midnight().assume_offset(CST);
        Some(Self(
            i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()?,
        ))
    }

    /// An RFC 3339 instant from outside, within the accepted years.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let t =
            OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
        let ts = Self(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()?);
        ts.in_range().then_some(ts)
    }
}

impl Timestamp {
    /// A Beijing time typed by a person: `YYYY-MM-DD HH:MM[:SS]` (or with `T`), or RFC 3339;
    /// within the accepted years.
    pub fn parse_local(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(t) = Self::parse_rfc3339(s) {
            return Some(t);
        }
        let (d, t) = s.split_once([' ', 'T'])?;
        let day = Self::parse_cst_date(d)?;
        let mut parts = t.trim().split(':');
        let h: i64 = parts.next()?.parse().ok()?;
        let m: i64 = parts.next()?.parse().ok()?;
        let sec: i64 = match parts.next() {
            Some(x) => x.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some()
            || !(0..24).contains(&h)
            || !(0..60).contains(&m)
            || !(0..60).contains(&sec)
        {
            return None;
        }
        Some(day.plus_secs(h * 3600 + m * 60 + sec))
    }
}

/// Dates from outside (forms, the API, files) must fall in these years: a deadline in the
/// year 9999 or 1900 is a typing error, and refusing it keeps every later computation sane.
pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2099;

/// A real calendar day written `YYYY-MM-DD` (or `YYYY-M-D`, normalised), within
/// `MIN_YEAR..=MAX_YEAR`: the one parser of days for every field that takes one.
pub fn parse_day(s: &str) -> Option<time::Date> {
    let s = s.trim();
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year, month, d.parse().ok()?).ok()
}

/// `YYYY-MM-DD`, the one way days are written.
pub fn day_string(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_in_beijing_time() {
        // 2026-11-28T00:00:00Z is 08:00 in Beijing.
        let t = Timestamp::from_secs(1_795_824_000);
        assert_eq!(t.display_cst(), "2026-11-28 08:00:00");
        assert_eq!(t.rfc3339_cst(), "2026-11-28T08:00:00+08:00");
    }

    #[test]
    fn display_is_total_at_the_edges_of_time() {
        for t in [i64::MAX, i64::MIN, 253_402_300_799_000, -62_167_219_200_000] {
            let _ = Timestamp(t).display_cst();
            let _ = Timestamp(t).rfc3339_cst();
            assert!(!Timestamp(t).in_range());
        }
        // 9999-12-31T23:59:59Z is the year 10000 in Beijing: shown as "-", never a panic.
        assert_eq!(Timestamp(253_402_300_799_000).display_cst(), "-");
    }

    #[test]
    fn days_are_real_and_in_range() {
        assert_eq!(
            parse_day("2027-1-1").map(day_string).as_deref(),
            Some("2027-01-01")
        );
        assert_eq!(
            parse_day(" 2026-02-28 ").map(day_string).as_deref(),
            Some("2026-02-28")
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "9999-12-31",
            "1999-12-31",
            "2026-1",
            "2026-01-01-01",
            "+2026-01-01",
            "2026/01/01",
            "二〇二六-01-01",
            "2026-001-01",
            "",
            "-",
        ] {
            assert!(parse_day(bad).is_none(), "{bad}");
        }
        assert!(Timestamp::parse_rfc3339("9999-12-31T23:59:59Z").is_none());
        assert!(Timestamp::parse_rfc3339("2026-12-31T23:59:59+08:00").is_some());
    }

    #[test]
    fn parses_a_beijing_date() {
        let t = Timestamp::parse_cst_date("2026-11-28").unwrap_or(Timestamp(0));
        assert_eq!(t.display_cst(), "2026-11-28 00:00:00");
        assert!(Timestamp::parse_cst_date("2026-13-01").is_none());
        assert!(Timestamp::parse_cst_date("yesterday").is_none());
    }
}
