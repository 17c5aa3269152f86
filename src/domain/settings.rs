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
    /// Local time (Asia/Shanghai) of the nightly backup, `HH:MM`.
    pub backup_time: String,
    /// Where the nightly backup is copied (encrypted) when that directory is present, e.g. a
    /// USB stick's mount point. Empty: no copy.
    pub backup_copy_dir: String,
    /// The office's age public key (`age1…`); copies are encrypted to it.
    pub backup_age_recipient: String,
    /// Where the updates page looks for `*.hotline-update` bundles (mounted USB sticks).
    pub update_paths: Vec<String>,
    /// Seconds a platform's callback URL has to answer a delivery (回传) before the try
    /// counts as failed.
    pub callback_timeout_secs: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            org_name: "衡东县12345政务服务便民热线".to_string(),
            role_names: BTreeMap::new(),
            idle_timeout_minutes: 30,
            number_prefix: "HD".to_string(),
            backup_time: "02:30".to_string(),
            backup_copy_dir: String::new(),
            backup_age_recipient: String::new(),
            update_paths: ["/media", "/mnt", "/run/media"].map(String::from).to_vec(),
            callback_timeout_secs: 10,
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

    /// The nightly backup time as (hour, minute); the default when unreadable.
    pub fn backup_hm(&self) -> (u32, u32) {
        parse_hm(&self.backup_time).unwrap_or((2, 30))
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
    #[error("备份时间须为 时:分，例如 02:30")]
    BackupTime,
    #[error("备份副本目录须为绝对路径，例如 /media/usb")]
    BackupCopyDir,
    #[error("备份副本必须加密：请填写办公室的 age 公钥（age1 开头）")]
    AgeRecipient,
    #[error("升级包目录须为绝对路径，每行一个，最多 8 个")]
    UpdatePaths,
    #[error("工单编号前缀须为 1–8 个大写英文字母，例如 HD")]
    NumberPrefix,
    #[error("回传等待时间须在 1–60 秒之间")]
    CallbackTimeout,
}

impl SettingsInvalid {
    pub fn field(&self) -> &'static str {
        match self {
            SettingsInvalid::OrgName => "org_name",
            SettingsInvalid::IdleTimeout => "idle_timeout_minutes",
            SettingsInvalid::RoleName => "role_names",
            SettingsInvalid::BackupTime => "backup_time",
            SettingsInvalid::BackupCopyDir => "backup_copy_dir",
            SettingsInvalid::AgeRecipient => "backup_age_recipient",
            SettingsInvalid::UpdatePaths => "update_paths",
            SettingsInvalid::NumberPrefix => "number_prefix",
            SettingsInvalid::CallbackTimeout => "callback_timeout_secs",
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
    // Order numbers are prefix + YYYYMMDD + serial: a prefix with digits or other letters
    // would make numbers ambiguous or unsearchable.
    if !(1..=8).contains(&s.number_prefix.len())
        || !s.number_prefix.bytes().all(|b| b.is_ascii_uppercase())
    {
        return Err(SettingsInvalid::NumberPrefix);
    }
    for name in s.role_names.values() {
        if !(1..=16).contains(&name.trim().chars().count()) {
            return Err(SettingsInvalid::RoleName);
        }
    }
    if !(1..=60).contains(&s.callback_timeout_secs) {
        return Err(SettingsInvalid::CallbackTimeout);
    }
    if parse_hm(&s.backup_time).is_none() {
        return Err(SettingsInvalid::BackupTime);
    }
    let absolute = |p: &str| p.starts_with('/') && !p.contains('\0') && p.len() <= 256;
    if !s.backup_copy_dir.is_empty() && !absolute(&s.backup_copy_dir) {
        return Err(SettingsInvalid::BackupCopyDir);
    }
    let recipient_ok = s
        .backup_age_recipient
        .parse::<age::x25519::Recipient>()
        .is_ok();
    if (!s.backup_age_recipient.is_empty() || !s.backup_copy_dir.is_empty()) && !recipient_ok {
        return Err(SettingsInvalid::AgeRecipient);
    }
    if s.update_paths.len() > 8 || s.update_paths.iter().any(|p| !absolute(p)) {
        return Err(SettingsInvalid::UpdatePaths);
    }
    Ok(())
}

/// `HH:MM` (24-hour) into (hour, minute).
pub fn parse_hm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_time_is_hh_mm() {
        assert_eq!(parse_hm("02:30"), Some((2, 30)));
        assert_eq!(parse_hm(" 3:05 "), Some((3, 5)));
        assert_eq!(parse_hm("23:59"), Some((23, 59)));
        for bad in ["24:00", "2:3", "02:60", "0230", "", "aa:bb", "-1:30"] {
            assert_eq!(parse_hm(bad), None, "{bad}");
        }
        let s = Settings {
            backup_time: "nonsense".into(),
            ..Settings::default()
        };
        assert_eq!(s.backup_hm(), (2, 30));
        assert_eq!(validate(&s), Err(SettingsInvalid::BackupTime));
        assert_eq!(validate(&Settings::default()), Ok(()));
        for bad in ["", "hd", "H1", "ABCDEFGHI", "衡东", "H-D", " HD"] {
            let s = Settings {
                number_prefix: bad.into(),
                ..Settings::default()
            };
            assert_eq!(validate(&s), Err(SettingsInvalid::NumberPrefix), "{bad:?}");
        }
    }
}
