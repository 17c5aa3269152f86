//! Managing users: create, list, disable (never delete), change role or unit, reset password.

use serde::{Deserialize, Serialize};

use super::{Actor, App, password};
use crate::domain::role::{Permission, Role};
use crate::domain::unit::UnitId;
use crate::domain::user::{self, User, UserId};
use crate::error::AppError;
use crate::store::{Tx, audit, sessions, units, users};

/// A unit named by id (a number), or by code or whole name (a string).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum UnitRef {
    Id(u64),
    Code(String),
}

pub fn resolve_unit(tx: &impl Tx, r: &UnitRef) -> Result<UnitId, AppError> {
    let found = match r {
        UnitRef::Id(id) => units::get(tx, UnitId(*id))?.map(|u| u.id),
        UnitRef::Code(code) => match units::id_by_code(tx, code.trim())? {
            Some(id) => Some(id),
            None => match code.trim().parse::<u64>() {
                Ok(n) => units::get(tx, UnitId(n))?.map(|u| u.id),
                // A unit's whole name, as picked from a list of names (units are few).
                Err(_) => units::list(tx)?
                    .into_iter()
                    .find(|u| u.name == code.trim())
                    .map(|u| u.id),
            },
        },
    };
    found.ok_or_else(|| AppError::invalid("unit", "承办单位不存在"))
}

#[derive(Clone, Debug, Deserialize)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub unit: Option<UnitRef>,
    pub password: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub disabled: Option<bool>,
    pub role: Option<Role>,
    /// `Some(None)` (JSON null) removes the unit.
    #[serde(default, deserialize_with = "double_option")]
    pub unit: Option<Option<UnitRef>>,
    pub password: Option<String>,
    pub display_name: Option<String>,
}

fn double_option<'de, D>(d: D) -> Result<Option<Option<UnitRef>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<UnitRef>::deserialize(d).map(Some)
}

/// A user as shown to the admin: never the password hash.
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    pub id: u64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit: Option<u64>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.0,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            unit: u.unit.map(|x| x.0),
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            created_at: u.created_at.rfc3339_cst(),
        }
    }
}

/// Creates a user; the admin-set password must be changed at first login. Blocking.
pub fn create(app: &App, actor: &Actor, new: NewUser) -> Result<User, AppError> {
    actor.require(Permission::UsersManage)?;
    create_unchecked(app, &actor.event("user.create", None, String::new()), new)
}

/// Creation with the audit identity given: the console (`hotline user add`) uses this.
pub fn create_unchecked(
    app: &App,
    who: &crate::domain::audit::AuditEvent,
    new: NewUser,
) -> Result<User, AppError> {
    let username = user::normalize_username(&new.username)?;
    let display_name = if new.display_name.trim().is_empty() {
        username.clone()
    } else {
        new.display_name.trim().to_string()
    };
    user::validate_display_name(&display_name)?;
    user::validate_password(&username, &new.password)?;
    let unit = match &new.unit {
        Some(r) => Some(app.store.read(|tx| resolve_unit(tx, r))?),
        None => None,
    };
    user::validate_unit(new.role, unit)?;
    let hash = password::hash(&new.password)?;
    let now = app.now();
    app.store.write(|tx| -> Result<User, AppError> {
        if users::id_by_username(tx, &username)?.is_some() {
            return Err(AppError::conflict("username_taken", "该用户名已被使用"));
        }
        let u = User {
            id: users::next_id(tx)?,
            username: username.clone(),
            display_name,
            role: new.role,
            unit,
            password_hash: hash,
            must_change_password: true,
            disabled: false,
            created_at: now,
            password_changed_at: now,
        };
        users::put(tx, &u)?;
        let mut ev = who.clone();
        ev.action = "user.create".into();
        ev.target = Some(format!("user:{}", u.id.0));
        ev.detail = format!("创建用户 {username}，角色 {}", u.role.default_label());
        audit::append(tx, now, ev)?;
        Ok(u)
    })
}

pub fn list(app: &App, actor: &Actor) -> Result<Vec<User>, AppError> {
    actor.require(Permission::UsersManage)?;
    Ok(app.store.read(users::list)?)
}

pub fn get(app: &App, actor: &Actor, id: UserId) -> Result<User, AppError> {
    actor.require(Permission::UsersManage)?;
    app.store
        .read(|tx| users::get(tx, id))?
        .ok_or(AppError::NotFound)
}

/// Applies a patch. Disabling, a role change and a password reset end the user's
/// sessions at once; an admin cannot lock themselves or the office out. Blocking.
pub fn update(app: &App, actor: &Actor, id: UserId, patch: UserPatch) -> Result<User, AppError> {
    actor.require(Permission::UsersManage)?;
    update_unchecked(
        app,
        &actor.event("user.update", None, String::new()),
        Some(actor.id),
        id,
        patch,
    )
}

pub fn update_unchecked(
    app: &App,
    who: &crate::domain::audit::AuditEvent,
    self_id: Option<UserId>,
    id: UserId,
    patch: UserPatch,
) -> Result<User, AppError> {
    let now = app.now();
    let hash = match &patch.password {
        Some(p) => {
            let target = app
                .store
                .read(|tx| users::get(tx, id))?
                .ok_or(AppError::NotFound)?;
            user::validate_password(&target.username, p)?;
            Some(password::hash(p)?)
        }
        None => None,
    };
    app.store.write(|tx| -> Result<User, AppError> {
        let mut u = users::get(tx, id)?.ok_or(AppError::NotFound)?;
        let before = u.clone();
        let mut changes = Vec::new();
        if let Some(name) = &patch.display_name {
            user::validate_display_name(name)?;
            u.display_name = name.trim().to_string();
            changes.push("姓名".to_string());
        }
        if let Some(role) = patch.role {
            u.role = role;
            if role != before.role {
                changes.push(format!(
                    "角色 {} → {}",
                    before.role.default_label(),
                    role.default_label()
                ));
            }
        }
        if let Some(unit) = &patch.unit {
            u.unit = match unit {
                Some(r) => Some(resolve_unit(tx, r)?),
                None => None,
            };
            if u.unit != before.unit {
                changes.push("所属单位".to_string());
            }
        } else if u.role != Role::Unit {
            u.unit = None;
        }
        user::validate_unit(u.role, u.unit)?;
        if let Some(d) = patch.disabled {
            u.disabled = d;
            if d != before.disabled {
                changes.push(if d { "停用" } else { "启用" }.to_string());
            }
        }
        if let Some(h) = hash {
            u.password_hash = h;
            u.must_change_password = true;
            u.password_changed_at = now;
            changes.push("重置密码".to_string());
        }
        if Some(u.id) == self_id && (u.disabled || u.role != Role::Admin) {
            return Err(AppError::conflict(
                "self_lockout",
                "不能停用自己的账号或取消自己的管理员角色",
            ));
        }
        if before.role == Role::Admin && !before.disabled && (u.disabled || u.role != Role::Admin) {
            let active_admins = users::list(tx)?
                .iter()
                .filter(|x| x.role == Role::Admin && !x.disabled && x.id != u.id)
                .count();
            if active_admins == 0 {
                return Err(AppError::conflict(
                    "last_admin",
                    "至少需要保留一个启用的管理员账号",
                ));
            }
        }
        users::put(tx, &u)?;
        let ends_sessions = u.disabled
            || u.role != before.role
            || u.unit != before.unit
            || u.password_hash != before.password_hash;
        if ends_sessions {
            sessions::delete_for_user(tx, u.id)?;
        }
        let mut ev = who.clone();
        ev.target = Some(format!("user:{}", u.id.0));
        ev.detail = if changes.is_empty() {
            format!("修改用户 {}（无变化）", u.username)
        } else {
            format!("修改用户 {}：{}", u.username, changes.join("，"))
        };
        audit::append(tx, now, ev)?;
        Ok(u)
    })
}
