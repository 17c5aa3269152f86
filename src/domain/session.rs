//! Login sessions: their lifetime rules, independent of where they are kept.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;
use super::user::UserId;

/// Absolute session lifetime, whatever the activity.
pub const ABSOLUTE_SECS: i64 = 12 * 3600;
/// `last_seen` is written back at most this often, so reads stay reads.
pub const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user: UserId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    /// The seat (席位 1–4) an operator took for this session, shown on the shift lead's board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<u8>,
}

/// The centre's seats (席位).
pub const SEATS: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Live { touch: bool },
    IdleExpired,
    AbsoluteExpired,
}

impl Session {
    pub fn state(&self, now: Timestamp, idle_secs: i64) -> SessionState {
        if now.secs() - self.created_at.secs() >= ABSOLUTE_SECS {
            SessionState::AbsoluteExpired
        } else if now.secs() - self.last_seen.secs() >= idle_secs {
            SessionState::IdleExpired
        } else {
            SessionState::Live {
                touch: now.secs() - self.last_seen.secs() >= TOUCH_EVERY_SECS,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        let t0 = Timestamp::from_secs(1_000_000);
        let s = Session {
            user: UserId(1),
            csrf_token: String::new(),
            created_at: t0,
            last_seen: t0,
            seat: None,
        };
        assert_eq!(s.state(t0, 1800), SessionState::Live { touch: false });
        assert_eq!(
            s.state(t0.plus_secs(61), 1800),
            SessionState::Live { touch: true }
        );
        assert_eq!(s.state(t0.plus_secs(1800), 1800), SessionState::IdleExpired);
        let busy = Session {
            last_seen: t0.plus_secs(ABSOLUTE_SECS - 10),
            ..s
        };
        assert_eq!(
            busy.state(t0.plus_secs(ABSOLUTE_SECS), 1800),
            SessionState::AbsoluteExpired
        );
    }
}
