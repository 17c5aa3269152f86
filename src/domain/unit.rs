//! Units (承办单位) that handle dispatched orders, grouped into leagues for ranking.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum League {
    Township,
    County,
    Enterprise,
}

impl League {
    pub const ALL: [League; 3] = [League::Township, League::County, League::Enterprise];

    pub fn code(self) -> &'static str {
        match self {
            League::Township => "township",
            League::County => "county",
            League::Enterprise => "enterprise",
        }
    }

    pub fn parse(code: &str) -> Option<League> {
        League::ALL.into_iter().find(|l| l.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            League::Township => "乡镇",
            League::County => "县直",
            League::Enterprise => "企业",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub league: League,
    #[serde(default)]
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// Problems with a unit's fields; the message is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitInvalid {
    #[error("单位编码须为 1–32 位字母、数字、下划线或连字符")]
    Code,
    #[error("单位名称须为 1–64 个字符")]
    Name,
}

impl UnitInvalid {
    pub fn field(&self) -> &'static str {
        match self {
            UnitInvalid::Code => "code",
            UnitInvalid::Name => "name",
        }
    }
}

pub fn validate_code(code: &str) -> Result<(), UnitInvalid> {
    let ok = (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok { Ok(()) } else { Err(UnitInvalid::Code) }
}

pub fn validate_name(name: &str) -> Result<(), UnitInvalid> {
    let n = name.trim().chars().count();
    if (1..=64).contains(&n) && !name.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(UnitInvalid::Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names() {
        assert!(validate_code("mishui-town_01").is_ok());
        assert!(validate_code("").is_err());
        assert!(validate_code("洣水镇").is_err());
        assert!(validate_code(&"a".repeat(33)).is_err());
        assert!(validate_name("洣水镇人民政府").is_ok());
        assert!(validate_name("  ").is_err());
        assert!(validate_name("a\u{0}b").is_err());
        assert_eq!(League::parse("county"), Some(League::County));
        assert_eq!(League::parse("city"), None);
    }
}
