//! Supervision: 催办, 督办, and the automatic urging of overdue orders.

use serde::Deserialize;

use super::{Step, optional, required};
use crate::domain::order::{Event, Params};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::App;
use crate::store::{audit, orders};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

pub(super) fn urge(s: &mut Step) -> Result<Event, AppError> {
    let b: NoteBody = s.body()?;
    let note = required("note", "催办内容", &b.note, 1000)?;
    let r = s.round()?;
    r.urges += 1;
    let unit = r.unit;
    s.o.flags.urge_count += 1;
    Ok(Event::new(Params::unit(Some(unit)), note))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuperviseBody {
    #[serde(default)]
    level: Option<String>,
    note: String,
}

pub(super) fn supervise(s: &mut Step) -> Result<Event, AppError> {
    let b: SuperviseBody = s.body()?;
    let note = required("note", "督办意见", &b.note, 1000)?;
    let level = optional("level", "督办级别", &b.level, 16)?.unwrap_or_else(|| "一般督办".into());
    s.o.flags.supervised = Some(level.clone());
    let params = Params {
        level: Some(level),
        ..Params::unit(s.o.current_round().map(|r| r.unit))
    };
    Ok(Event::new(params, note))
}

/// Urges every order whose running deadline has passed, once per deadline; run by the
/// background job every minute. Returns how many were urged.
pub fn urge_overdue(app: &App) -> Result<usize, AppError> {
    let now = app.now();
    let queue = crate::domain::order_index::Key::new(crate::domain::order_index::Kind::AutoUrge);
    let due = app
        .store
        .read(|tx| crate::service::orders::index::before(tx, &queue, now, 500))?;
    let mut n = 0;
    for (at, id) in due {
        app.store.write(|tx| -> Result<(), AppError> {
            let Some(old) = orders::get(tx, id)? else {
                return Ok(());
            };
            if old.running_deadline().is_none_or(|d| d.due != at)
                || old.flags.auto_urged_due == Some(at)
            {
                return Ok(());
            }
            let mut o = old.clone();
            if let Some(r) = o.current_round_mut() {
                r.urges += 1;
            }
            o.flags.urge_count += 1;
            // Urged once per deadline: this takes it off the job's queue.
            o.flags.auto_urged_due = Some(at);
            o.version += 1;
            o.updated_at = now;
            o.push_timeline(
                now,
                crate::domain::user::UserId(0),
                "系统",
                Role::Supervisor,
                "auto_urge",
                Event::of(Params {
                    due: Some(at),
                    stage: Some(o.state),
                    ..Params::unit(o.current_round().map(|r| r.unit))
                }),
            );
            orders::put(tx, Some(&old), &o)?;
            audit::append(
                tx,
                now,
                crate::domain::audit::AuditEvent {
                    actor: "system".into(),
                    action: "order.auto_urge".into(),
                    target: Some(format!("order:{}", id.0)),
                    detail: format!("超期自动催办 {}", o.number),
                    ..Default::default()
                },
            )?;
            n += 1;
            Ok(())
        })?;
    }
    Ok(n)
}
