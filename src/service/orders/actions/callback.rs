//! 回访: QA calls the citizen back (the third unreachable attempt ends the cycle); a sample of
//! direct answers and the callers of merged orders are called back too.

use serde::Deserialize;

use super::{Step, optional};
use crate::domain::order::{Callback, Event, Params, Resolved, Satisfaction};
use crate::domain::order_state::{Next, State};
use crate::error::AppError;

/// Unreachable callbacks before the attempt cycle ends.
pub const CALLBACK_ATTEMPTS: usize = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    satisfaction: Satisfaction,
    #[serde(default)]
    resolved: Option<Resolved>,
    #[serde(default)]
    note: Option<String>,
}

pub(super) fn callback(s: &mut Step) -> Result<Event, AppError> {
    let b: CallbackBody = s.body()?;
    let note = optional("note", "回访记录", &b.note, 2000)?;
    let o = &mut *s.o;
    let round = o.rounds.len() as u32;
    o.callbacks.push(Callback {
        satisfaction: b.satisfaction,
        resolved: b.resolved,
        note: note.clone(),
        at: s.now,
        by: s.actor.id,
        round,
    });
    let unreachable = b.satisfaction == Satisfaction::Unreachable;
    let attempts = o.callback_attempts();
    let moves_on = !unreachable || attempts >= CALLBACK_ATTEMPTS;
    let mut told = Event::new(
        Params {
            satisfaction: Some(b.satisfaction),
            resolved: b.resolved,
            count: unreachable.then_some(attempts as u32),
            ..Params::default()
        },
        note.unwrap_or_default(),
    );
    match (s.next, o.state) {
        (Next::Branch { .. }, _) => {
            if moves_on {
                o.callback_due = None;
            }
            s.branch(moves_on, None);
            Ok(told)
        }
        // The caller of a merged order, told the master's reply.
        (_, State::Merged) => {
            if moves_on {
                o.flags.callback_pending = false;
                o.callback_due = None;
            }
            Ok(told)
        }
        _ => {
            told.params.sample = true;
            Ok(told)
        }
    }
}
