//! Staff and unit accounts, and the rules their names and passwords follow.

use serde::{Deserialize, Serialize};

use super::role::Role;
use super::time::Timestamp;
use super::unit::UnitId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub u64);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit: Option<UnitId>,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub password_changed_at: Timestamp,
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Problems with a user's fields; the message is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserInvalid {
    #[error("用户名须为 3–32 位小写字母、数字、点、下划线或连字符，以字母或数字开头")]
    Username,
    #[error("姓名须为 1–32 个字符")]
    DisplayName,
    #[error("密码至少 10 个字符，最多 128 个字符")]
    PasswordLength,
    #[error("密码不能包含用户名")]
    PasswordIsUsername,
    #[error("密码不能全部是同一个字符")]
    PasswordTrivial,
    #[error("承办单位经办人必须属于一个承办单位")]
    UnitRequired,
    #[error("只有承办单位经办人可以属于承办单位")]
    UnitNotAllowed,
}

impl UserInvalid {
    /// The form or JSON field the problem belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            UserInvalid::Username => "username",
            UserInvalid::DisplayName => "display_name",
            UserInvalid::PasswordLength
            | UserInvalid::PasswordIsUsername
            | UserInvalid::PasswordTrivial => "password",
            UserInvalid::UnitRequired | UserInvalid::UnitNotAllowed => "unit",
        }
    }
}

/// Usernames are compared in lowercase; this returns the stored form.
pub fn normalize_username(username: &str) -> Result<String, UserInvalid> {
    let u = username.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&u.len())
        && u.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(u)
    } else {
        Err(UserInvalid::Username)
    }
}

pub fn validate_display_name(name: &str) -> Result<(), UserInvalid> {
    let n = name.trim().chars().count();
    if (1..=32).contains(&n) && !name.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(UserInvalid::DisplayName)
    }
}

pub fn validate_password(username: &str, password: &str) -> Result<(), UserInvalid> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(UserInvalid::PasswordLength);
    }
    // Guessers try the name first, with digits around it: refuse any password holding it.
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return Err(UserInvalid::PasswordIsUsername);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(UserInvalid::PasswordTrivial);
    }
    Ok(())
}

/// A unit user belongs to exactly one unit; nobody else belongs to one.
pub fn validate_unit(role: Role, unit: Option<UnitId>) -> Result<(), UserInvalid> {
    match (role, unit) {
        (Role::Unit, None) => Err(UserInvalid::UnitRequired),
        (Role::Unit, Some(_)) => Ok(()),
        (_, Some(_)) => Err(UserInvalid::UnitNotAllowed),
        (_, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(normalize_username(" Zhang.San "), Ok("zhang.san".into()));
        assert!(normalize_username("ab").is_err());
        assert!(normalize_username("_admin").is_err());
        assert!(normalize_username("张三").is_err());
        assert!(normalize_username("a b c").is_err());
    }

    #[test]
    fn passwords() {
        assert!(validate_password("zhangsan", "short").is_err());
        assert_eq!(
            validate_password("zhangsan1", "ZHANGSAN1"),
            Err(UserInvalid::PasswordLength)
        );
        assert_eq!(
            validate_password("zhangsan12", "ZhangSan12"),
            Err(UserInvalid::PasswordIsUsername)
        );
        assert_eq!(
            validate_password("zhangsan", "aaaaaaaaaaaa"),
            Err(UserInvalid::PasswordTrivial)
        );
        assert!(validate_password("zhangsan", "衡东热线值班很辛苦啊").is_ok());
        assert!(validate_password("zhangsan", &"x1".repeat(65)).is_err());
    }

    #[test]
    fn unit_membership() {
        assert!(validate_unit(Role::Unit, Some(UnitId(1))).is_ok());
        assert!(validate_unit(Role::Unit, None).is_err());
        assert!(validate_unit(Role::Operator, Some(UnitId(1))).is_err());
        assert!(validate_unit(Role::Admin, None).is_ok());
    }
}
