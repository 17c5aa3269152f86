//! Who looked at an order's caller: the who-viewed log, and revealing the unmasked identity
//! for a stated reason.

use serde_json::{Value, json};

use super::load_visible;
use crate::domain::order::OrderId;
use crate::domain::role::{Permission, Role};
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{audit, orders};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ViewRecord {
    pub at: Timestamp,
    pub user: u64,
    pub user_name: String,
    pub role: Role,
    /// `view` or `reveal`.
    pub kind: String,
    pub reason: Option<String>,
}

pub(super) fn record_view(
    app: &App,
    actor: &Actor,
    id: OrderId,
    kind: &str,
    reason: Option<String>,
) -> Result<(), AppError> {
    record_views(app, actor, &[id], kind, reason)
}

/// Notes in each order's who-viewed log that `actor` saw its caller (`view`, `list` or
/// `reveal`), in one transaction.
pub(super) fn record_views(
    app: &App,
    actor: &Actor,
    ids: &[OrderId],
    kind: &str,
    reason: Option<String>,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let rec = ViewRecord {
        at: app.now(),
        user: actor.id.0,
        user_name: actor.display_name.clone(),
        role: actor.role,
        kind: kind.to_string(),
        reason,
    };
    let bytes = serde_json::to_vec(&rec).map_err(|e| AppError::Internal(e.to_string()))?;
    app.store.write_batched(|tx| -> Result<(), AppError> {
        for id in ids {
            orders::record_view(tx, *id, &bytes)?;
        }
        Ok(())
    })
}

/// The unmasked caller identity, for a stated reason; audited and logged on the order.
pub fn reveal(app: &App, actor: &Actor, id: OrderId, reason: &str) -> Result<Value, AppError> {
    actor.require(Permission::CallerReveal)?;
    let reason = reason.trim();
    if reason.chars().count() < 2 {
        return Err(AppError::invalid("reason", "请说明查看完整信息的理由"));
    }
    let o = app.store.read(|tx| load_visible(tx, actor, id))?;
    let now = app.now();
    record_view(app, actor, id, "reveal", Some(reason.to_string()))?;
    app.store.write(|tx| {
        audit::append(
            tx,
            now,
            actor.event(
                "order.reveal",
                Some(format!("order:{}", id.0)),
                format!("查看 {} 来电人完整信息，理由：{reason}", o.number),
            ),
        )
        .map(|_| ())
    })?;
    Ok(json!({
        "name": o.caller.name,
        "phone": o.caller.phone,
        "id_number": o.caller.id_number,
    }))
}

/// Who looked at the order's caller data, oldest first.
pub fn views(app: &App, actor: &Actor, id: OrderId) -> Result<Vec<ViewRecord>, AppError> {
    actor.require(Permission::ViewLogRead)?;
    app.store.read(|tx| -> Result<Vec<ViewRecord>, AppError> {
        load_visible(tx, actor, id)?;
        Ok(orders::views(tx, id)?
            .iter()
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect())
    })
}
