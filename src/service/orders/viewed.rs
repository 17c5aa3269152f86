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

/// Views waiting to be written, at most; beyond it the oldest are written at once.
const PENDING_MAX: usize = 100_000;

fn record(
    actor: &Actor,
    now: Timestamp,
    kind: &str,
    reason: Option<String>,
) -> Result<Vec<u8>, AppError> {
    let rec = ViewRecord {
        at: now,
        user: actor.id.0,
        user_name: actor.display_name.clone(),
        role: actor.role,
        kind: kind.to_string(),
        reason,
    };
    serde_json::to_vec(&rec).map_err(|e| AppError::Internal(e.to_string()))
}

/// Notes in each order's who-viewed log that `actor` saw its caller (`view`, `list`):
/// queued, so reading never waits for a write; the background job writes the queue within
/// moments, riding whatever commit is under way.
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
    let bytes = record(actor, app.now(), kind, reason)?;
    let full = {
        let mut q = app.pending_views.lock().unwrap_or_else(|p| p.into_inner());
        q.extend(ids.iter().map(|id| (*id, bytes.clone())));
        q.len() >= PENDING_MAX
    };
    if full {
        flush_views(app)?;
    }
    Ok(())
}

/// Writes the queued who-viewed records (the background job, and at shutdown). On a failed
/// write (a full disk) they stay queued for the next try.
pub fn flush_views(app: &App) -> Result<usize, AppError> {
    // Held until the batch is written (or back in the queue): the log read meanwhile sees
    // every record, in the queue or in the store.
    let _flushing = app.views_flushing.lock().unwrap_or_else(|p| p.into_inner());
    let batch: Vec<(OrderId, Vec<u8>)> = {
        let mut q = app.pending_views.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *q)
    };
    if batch.is_empty() {
        return Ok(0);
    }
    let batch = std::sync::Arc::new(batch);
    let records = batch.clone();
    let written = app.store.write_batched(move |tx| -> Result<(), AppError> {
        for (id, bytes) in records.iter() {
            orders::record_view(tx, *id, bytes)?;
        }
        Ok(())
    });
    match written {
        Ok(()) => Ok(batch.len()),
        Err(e) => {
            let mut q = app.pending_views.lock().unwrap_or_else(|p| p.into_inner());
            let newer = std::mem::take(&mut *q);
            *q = std::sync::Arc::unwrap_or_clone(batch);
            q.extend(newer);
            Err(e)
        }
    }
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
    // A reveal is written at once, with its audit entry.
    let bytes = record(actor, now, "reveal", Some(reason.to_string()))?;
    app.store.write(|tx| {
        orders::record_view(tx, id, &bytes)?;
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
    // No batch is between the queue and the store while the log is read.
    let _flushing = app.views_flushing.lock().unwrap_or_else(|p| p.into_inner());
    let queued: Vec<Vec<u8>> = app
        .pending_views
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(o, _)| *o == id)
        .map(|(_, b)| b.clone())
        .collect();
    app.store.read(|tx| -> Result<Vec<ViewRecord>, AppError> {
        load_visible(tx, actor, id)?;
        // The written log, then what is still queued (newest last).
        Ok(orders::views(tx, id)?
            .iter()
            .chain(queued.iter())
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect())
    })
}
