//! Phone calls as the phone system (CTI) reports them: ringing at a seat, answered, hung up;
//! the orders registered during a call carry its id and talk time (to find the recording).

use serde::{Deserialize, Serialize};

use super::order::OrderId;
use super::time::Timestamp;

pub use super::session::SEATS;

/// One call, as the phone system told it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    pub call_id: String,
    pub seat: u8,
    /// The calling number as the phone system sent it, normalised where it is a number.
    pub caller: String,
    pub ringing_at: Timestamp,
    #[serde(default)]
    pub answered_at: Option<Timestamp>,
    #[serde(default)]
    pub ended_at: Option<Timestamp>,
    /// Orders registered during the call (a caller may raise two matters).
    #[serde(default)]
    pub orders: Vec<OrderId>,
}

impl CallRecord {
    /// Seconds talked: from answer to hang-up (none until both are known; 0 unanswered).
    pub fn talk_secs(&self) -> Option<u32> {
        match (self.answered_at, self.ended_at) {
            (Some(a), Some(e)) => Some(u32::try_from((e.0 - a.0).max(0) / 1000).unwrap_or(0)),
            (None, Some(_)) => Some(0),
            _ => None,
        }
    }
}

impl crate::store::codec::Record for CallRecord {
    const KIND: &'static str = "call";
    const VERSION: u8 = 1;
}

/// What an order keeps of the call it was registered during.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLink {
    pub call_id: String,
    pub seat: u8,
    #[serde(default)]
    pub answered_at: Option<Timestamp>,
    /// Known once the call has ended.
    #[serde(default)]
    pub talk_secs: Option<u32>,
}

impl CallLink {
    pub fn of(c: &CallRecord) -> CallLink {
        CallLink {
            call_id: c.call_id.clone(),
            seat: c.seat,
            answered_at: c.answered_at,
            talk_secs: c.talk_secs(),
        }
    }
}

/// A call id as phone systems make them (Asterisk's `1733300000.123`, a UUID, …): 1–64
/// letters, digits and `.`, `-`, `_`, `:`, `@`.
pub fn valid_call_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'@'))
}

/// "3分12秒" for a talk time.
pub fn talk_label(secs: u32) -> String {
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}秒"),
        (m, 0) => format!("{m}分"),
        (m, s) => format!("{m}分{s}秒"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_and_talk_time() {
        assert!(valid_call_id("1733300000.123"));
        assert!(valid_call_id("3f2a9c1e-7d1b-4a35-9c55-0c2b7d9e1f00"));
        assert!(!valid_call_id(""));
        assert!(!valid_call_id("a b"));
        assert!(!valid_call_id(&"9".repeat(65)));
        assert_eq!(talk_label(5), "5秒");
        assert_eq!(talk_label(120), "2分");
        assert_eq!(talk_label(192), "3分12秒");
        let mut c = CallRecord {
            call_id: "1".into(),
            seat: 1,
            caller: "13800000000".into(),
            ringing_at: Timestamp(0),
            answered_at: None,
            ended_at: None,
            orders: vec![],
        };
        assert_eq!(c.talk_secs(), None);
        c.ended_at = Some(Timestamp(9_000));
        assert_eq!(c.talk_secs(), Some(0), "a missed call talked for nothing");
        c.answered_at = Some(Timestamp(2_000));
        assert_eq!(c.talk_secs(), Some(7));
    }
}
