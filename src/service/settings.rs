//! The office's settings: read from the cache, written through the store.

use super::{Actor, App};
use crate::domain::role::Permission;
use crate::domain::settings::{Settings, validate};
use crate::error::AppError;
use crate::store::{audit, meta};

pub fn update(app: &App, actor: &Actor, new: Settings) -> Result<Settings, AppError> {
    actor.require(Permission::SettingsManage)?;
    let mut new = new;
    new.org_name = new.org_name.trim().to_string();
    new.role_names.retain(|_, v| !v.trim().is_empty());
    for v in new.role_names.values_mut() {
        *v = v.trim().to_string();
    }
    new.backup_time = new.backup_time.trim().to_string();
    new.backup_copy_dir = new.backup_copy_dir.trim().to_string();
    new.backup_age_recipient = new.backup_age_recipient.trim().to_string();
    new.update_paths = new
        .update_paths
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    validate(&new)?;
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        meta::put(tx, "settings", &new)?;
        audit::append(
            tx,
            now,
            actor.event("settings.update", None, "修改系统设置".into()),
        )?;
        Ok(())
    })?;
    app.set_settings_cache(new.clone());
    Ok(new)
}
