//! Typical cases (典型案例) the supervisor chooses for the bulletin, each with a note.

use crate::domain::order::OrderId;
use crate::domain::order_index::cst_day;
use crate::domain::role::Permission;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::audit;
use crate::store::cases::{self, TypicalCase};

/// Marks the order as a typical case of today's period, with the supervisor's note.
pub fn mark(app: &App, actor: &Actor, order: OrderId, note: &str) -> Result<(), AppError> {
    actor.require(Permission::CasesManage)?;
    let note = note.trim();
    if !(2..=1000).contains(&note.chars().count()) {
        return Err(AppError::invalid(
            "note",
            "请写明列为典型案例的说明（2–1000 字）",
        ));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        let o = crate::service::orders::load_visible(tx, actor, order)?;
        let c = TypicalCase {
            order: o.id,
            number: o.number.clone(),
            title: o.title.clone(),
            note: note.to_string(),
            by_name: actor.display_name.clone(),
            at: now,
        };
        cases::put(tx, cst_day(now), &c)?;
        audit::append(
            tx,
            now,
            actor.event(
                "case.mark",
                Some(format!("order:{}", o.id.0)),
                format!("列为典型案例 {}", o.number),
            ),
        )?;
        Ok(())
    })
}

/// The cases chosen within the period, for the bulletin.
pub fn in_period(
    tx: &impl crate::store::Tx,
    p: &super::Period,
) -> Result<Vec<TypicalCase>, AppError> {
    Ok(cases::between(tx, p.from_day, p.to_day, 50)?
        .into_iter()
        .map(|(_, c)| c)
        .collect())
}
