//! Settings the office changes without a new release.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::role::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Shown in the top bar and on printed pages.
    pub org_name: String,
    /// Role display names by role code; missing ones fall back to the defaults.
    pub role_names: BTreeMap<String, String>,
    /// Minutes of inactivity after which a session ends.
    pub idle_timeout_minutes: u32,
    /// Two-letter prefix of order numbers.
    pub number_prefix: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            org_name: "衡东县12345政务服务便民热线".to_string(),
            role_names: BTreeMap::new(),
            idle_timeout_minutes: 30,
            number_prefix: "HD".to_string(),
        }
    }
}

impl Settings {
    pub fn role_name(&self, role: Role) -> String {
        self.role_names
            .get(role.code())
            .filter(|s| !s.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| role.default_label().to_string())
    }

    pub fn idle_secs(&self) -> i64 {
        i64::from(self.idle_timeout_minutes.clamp(5, 480)) * 60
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsInvalid {
    #[error("机构名称须为 1–64 个字符")]
    OrgName,
    #[error("空闲超时须在 5–480 分钟之间")]
    IdleTimeout,
    #[error("角色名称须为 1–16 个字符")]
    RoleName,
}

impl SettingsInvalid {
    pub fn field(&self) -> &'static str {
        match self {
            SettingsInvalid::OrgName => "org_name",
            SettingsInvalid::IdleTimeout => "idle_timeout_minutes",
            SettingsInvalid::RoleName => "role_names",
        }
    }
}

pub fn validate(s: &Settings) -> Result<(), SettingsInvalid> {
    let n = s.org_name.trim().chars().count();
    if !(1..=64).contains(&n) {
        return Err(SettingsInvalid::OrgName);
    }
    if !(5..=480).contains(&s.idle_timeout_minutes) {
        return Err(SettingsInvalid::IdleTimeout);
    }
    for name in s.role_names.values() {
        if !(1..=16).contains(&name.trim().chars().count()) {
            return Err(SettingsInvalid::RoleName);
        }
    }
    Ok(())
}
