//! Managing units (承办单位).

use serde::Deserialize;

use super::{Actor, App};
use crate::domain::role::Permission;
use crate::domain::unit::{self, League, Unit, UnitId};
use crate::error::AppError;
use crate::store::{audit, units};

#[derive(Clone, Debug, Deserialize)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub league: League,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    pub name: Option<String>,
    pub league: Option<League>,
    pub disabled: Option<bool>,
}

pub fn create(app: &App, actor: &Actor, new: NewUnit) -> Result<Unit, AppError> {
    actor.require(Permission::UnitsManage)?;
    let code = new.code.trim().to_string();
    unit::validate_code(&code)?;
    unit::validate_name(&new.name)?;
    let now = app.now();
    app.store.write(|tx| -> Result<Unit, AppError> {
        if units::id_by_code(tx, &code)?.is_some() {
            return Err(AppError::conflict("unit_code_taken", "该单位编码已存在"));
        }
        let u = Unit {
            id: units::next_id(tx)?,
            code: code.clone(),
            name: new.name.trim().to_string(),
            league: new.league,
            disabled: false,
            created_at: now,
        };
        units::put(tx, &u)?;
        audit::append(
            tx,
            now,
            actor.event(
                "unit.create",
                Some(format!("unit:{}", u.id.0)),
                format!("创建承办单位 {}（{}）", u.name, u.code),
            ),
        )?;
        Ok(u)
    })
}

pub fn list(app: &App, actor: &Actor) -> Result<Vec<Unit>, AppError> {
    actor.require(Permission::UnitsRead)?;
    Ok(app.store.read(units::list)?)
}

pub fn update(app: &App, actor: &Actor, id: UnitId, patch: UnitPatch) -> Result<Unit, AppError> {
    actor.require(Permission::UnitsManage)?;
    let now = app.now();
    app.store.write(|tx| -> Result<Unit, AppError> {
        let mut u = units::get(tx, id)?.ok_or(AppError::NotFound)?;
        if let Some(name) = &patch.name {
            unit::validate_name(name)?;
            u.name = name.trim().to_string();
        }
        if let Some(l) = patch.league {
            u.league = l;
        }
        if let Some(d) = patch.disabled {
            u.disabled = d;
        }
        units::put(tx, &u)?;
        audit::append(
            tx,
            now,
            actor.event(
                "unit.update",
                Some(format!("unit:{}", u.id.0)),
                format!("修改承办单位 {}（{}）", u.name, u.code),
            ),
        )?;
        Ok(u)
    })
}
