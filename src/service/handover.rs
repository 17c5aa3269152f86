//! 交接班: what one shift lead hands to the next, with the open matters named.

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::store::{audit, handover, orders};

#[derive(Serialize, Deserialize)]
pub struct Note {
    pub at: Timestamp,
    pub by: String,
    pub text: String,
    /// Order numbers handed over as still open.
    pub open: Vec<String>,
}

#[derive(Serialize)]
pub struct NoteView {
    pub at: String,
    pub by: String,
    pub text: String,
    pub open: Vec<(String, Option<u64>)>,
}

pub fn add(app: &App, actor: &Actor, text: &str, open: &[String]) -> Result<(), AppError> {
    actor.require(crate::domain::role::Permission::HandoverWrite)?;
    let text = text.trim();
    if text.chars().count() < 2 || text.chars().count() > 5000 {
        return Err(AppError::invalid("text", "交接内容须为 2–5000 个字"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        let mut numbers = Vec::new();
        for n in open.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if orders::id_by_number(tx, n)?.is_none() {
                return Err(AppError::invalid("open", format!("工单 {n} 不存在")));
            }
            numbers.push(n.to_string());
        }
        let note = Note {
            at: now,
            by: actor.display_name.clone(),
            text: text.to_string(),
            open: numbers,
        };
        let bytes = serde_json::to_vec(&note).map_err(|e| AppError::Internal(e.to_string()))?;
        handover::append(tx, &bytes)?;
        audit::append(
            tx,
            now,
            actor.event("handover.add", None, "填写交接班记录".into()),
        )?;
        Ok(())
    })
}

pub fn recent(app: &App, actor: &Actor, limit: usize) -> Result<Vec<NoteView>, AppError> {
    if !matches!(actor.role, Role::ShiftLead | Role::Supervisor) {
        return Err(AppError::Forbidden);
    }
    app.store.read(|tx| -> Result<Vec<NoteView>, AppError> {
        let mut out = Vec::new();
        for b in handover::recent(tx, limit)? {
            let Ok(n) = serde_json::from_slice::<Note>(&b) else {
                continue;
            };
            let mut open = Vec::new();
            for num in n.open {
                let id = orders::id_by_number(tx, &num)?.map(|i| i.0);
                open.push((num, id));
            }
            out.push(NoteView {
                at: n.at.display_cst(),
                by: n.by,
                text: n.text,
                open,
            });
        }
        Ok(out)
    })
}
