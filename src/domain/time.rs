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
    fn to_cst(self) -> Option<OffsetDateTime> {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .map(|t| t.to_offset(CST))
    }
    /// `2026-11-28 14:05:09` in Beijing time.
    pub fn display_cst(self) -> String {
        let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        self.to_cst()
            .and_then(|t| t.format(&fmt).ok())
            .unwrap_or_else(|| "-".to_string())
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
    /// Start of a `YYYY-MM-DD` day in Beijing time.
    pub fn parse_cst_date(s: &str) -> Option<Self> {
        let fmt = format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(s.trim(), &fmt).ok()?;
        let t = date.midnight().assume_offset(CST);
        Some(Self(
            i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()?,
        ))
    }
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
    fn parses_a_beijing_date() {
        let t = Timestamp::parse_cst_date("2026-11-28").unwrap_or(Timestamp(0));
        assert_eq!(t.display_cst(), "2026-11-28 00:00:00");
        assert!(Timestamp::parse_cst_date("2026-13-01").is_none());
        assert!(Timestamp::parse_cst_date("yesterday").is_none());
    }
}
