//! Harassment records and the blacklist (黑名单) of phone numbers.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlacklistEntry {
    pub phone: String,
    pub reason: String,
    /// `YYYY-MM-DD`: when a shift lead looks at it again.
    pub review_date: String,
    pub added_at: Timestamp,
    pub added_by: String,
    /// Lifted entries stay for the record.
    pub active: bool,
    pub lifted_at: Option<Timestamp>,
    pub lifted_by: Option<String>,
}

/// The threshold for `repeat_harasser`: `count` code-9 rejections within `days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarassPolicy {
    pub count: u32,
    pub days: u32,
}

impl Default for HarassPolicy {
    fn default() -> Self {
        HarassPolicy { count: 3, days: 30 }
    }
}

impl HarassPolicy {
    pub fn is_repeat(&self, incidents_in_window: usize) -> bool {
        self.count > 0 && incidents_in_window >= self.count as usize
    }
}
