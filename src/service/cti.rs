//! The phone system (CTI): call events from the PBX, the screen-pop they send to the
//! operator signed in at the seat, and the call's id and talk time on the orders registered
//! during it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Actor, App, Push};
use crate::domain::call::{CallLink, CallRecord, SEATS, valid_call_id};
use crate::domain::order::{Channel, OrderId};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::domain::validate::normalize_phone;
use crate::error::AppError;
use crate::store::{WriteTx, calls, orders, sessions};

/// A call event as the PBX posts it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallEvent {
    pub event: String,
    /// 1–4, as a number or a string ("2").
    #[serde(default)]
    pub seat: Option<Value>,
    #[serde(default)]
    pub caller: Option<String>,
    pub call_id: String,
}

#[derive(Debug, Serialize)]
pub struct EventResult {
    pub call_id: String,
    pub event: String,
    pub seat: u8,
    /// Sessions signed in at the seat, whose browsers are told at once (ringing).
    pub at_seat: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talk_secs: Option<u32>,
    /// Orders registered during the call (their numbers).
    pub orders: Vec<String>,
}

/// How long a ringing call is offered to a browser that connects late.
const RING_OFFER_MS: i64 = 45_000;
/// How long after it rang a call may still be taken into an intake form.
const INTAKE_WINDOW_MS: i64 = 12 * 3_600_000;

fn seat_of(v: Option<&Value>) -> Result<u8, AppError> {
    let n = match v {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (1..=u64::from(SEATS)).contains(&n) => Ok(n as u8),
        _ => Err(AppError::invalid(
            "seat",
            format!("seat 应为 1—{SEATS} 的席位号"),
        )),
    }
}

/// The calling number as the PBX sends it, as the intake form takes it: a whole number
/// normalised, else its digits (an operator corrects it), empty when withheld.
fn caller_of(raw: Option<&str>) -> Result<String, AppError> {
    let raw = raw.unwrap_or("").trim();
    if raw.chars().count() > 32 {
        return Err(AppError::invalid("caller", "caller 过长"));
    }
    if let Some(n) = normalize_phone(raw) {
        return Ok(n);
    }
    Ok(raw.chars().filter(char::is_ascii_digit).take(20).collect())
}

/// Takes one call event from the phone system's token.
pub fn event(app: &App, actor: &Actor, ev: CallEvent) -> Result<EventResult, AppError> {
    if actor.channel != Some(Channel::Phone) || !actor.session_key.is_empty() {
        return Err(AppError::Forbidden);
    }
    let call_id = ev.call_id.trim().to_string();
    if !valid_call_id(&call_id) {
        return Err(AppError::invalid(
            "call_id",
            "call_id 应为 1—64 个字母、数字或 . - _ : @",
        ));
    }
    let kind = ev.event.trim().to_string();
    if !matches!(kind.as_str(), "ringing" | "answered" | "hangup") {
        return Err(AppError::invalid(
            "event",
            "event 应为 ringing、answered 或 hangup",
        ));
    }
    let seat = match (&ev.seat, kind.as_str()) {
        (None, "ringing") => return Err(AppError::invalid("seat", "来电须指明席位 seat")),
        (None, _) => None,
        (Some(v), _) => Some(seat_of(Some(v))?),
    };
    let caller = caller_of(ev.caller.as_deref())?;
    let now = app.now();
    let idle = app.settings().idle_secs();
    let (result, targets, data) = app
        .store
        .write(|tx| apply(tx, &kind, &call_id, seat, &caller, now, idle))?;
    // Told after the commit: a browser that opens the form finds the call stored.
    let mut ringing = app.ringing.lock().unwrap_or_else(|p| p.into_inner());
    if kind == "ringing" {
        ringing.insert(
            result.seat,
            (
                call_id.clone(),
                Push {
                    target: Vec::new(),
                    event: "call",
                    data: data.clone(),
                    at: now,
                },
            ),
        );
    } else {
        ringing.retain(|_, (id, _)| *id != call_id);
    }
    drop(ringing);
    for target in targets {
        let _ = app.pushes.send(Push {
            target,
            event: if kind == "ringing" {
                "call"
            } else {
                "call_state"
            },
            data: data.clone(),
            at: now,
        });
    }
    Ok(result)
}

type Applied = (EventResult, Vec<Vec<u8>>, String);

fn apply(
    tx: &WriteTx,
    kind: &str,
    call_id: &str,
    seat: Option<u8>,
    caller: &str,
    now: Timestamp,
    idle: i64,
) -> Result<Applied, AppError> {
    let old = calls::get(tx, call_id)?;
    let mut c = match (old.clone(), seat) {
        (Some(c), _) => c,
        // A PBX restarted mid-call may report an answer or hang-up it never rang.
        (None, Some(seat)) => CallRecord {
            call_id: call_id.to_string(),
            seat,
            caller: caller.to_string(),
            ringing_at: now,
            answered_at: None,
            ended_at: None,
            orders: Vec::new(),
        },
        (None, None) => {
            return Err(AppError::invalid(
                "call_id",
                "没有这个 call_id 的来电记录（首次上报须带 seat）",
            ));
        }
    };
    match kind {
        "ringing" => {
            if let Some(s) = seat {
                c.seat = s;
            }
            if !caller.is_empty() {
                c.caller = caller.to_string();
            }
        }
        "answered" => {
            c.answered_at.get_or_insert(now);
        }
        _ => {
            c.ended_at.get_or_insert(now);
        }
    }
    calls::put(tx, &c)?;
    let mut numbers = Vec::new();
    if kind != "ringing" {
        for id in &c.orders {
            numbers.extend(link_order(tx, *id, &c)?);
        }
    }
    let targets: Vec<Vec<u8>> = sessions::sessions_on_seat(tx, c.seat, now, idle)?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let data = json!({
        "call_id": c.call_id,
        "event": kind,
        "seat": c.seat,
        "caller": c.caller,
        "href": format!("/orders/new?call={}", crate::http::guard::urlencode(&c.call_id)),
    })
    .to_string();
    let result = EventResult {
        call_id: c.call_id.clone(),
        event: kind.to_string(),
        seat: c.seat,
        at_seat: if kind == "ringing" { targets.len() } else { 0 },
        talk_secs: c.talk_secs(),
        orders: numbers,
    };
    Ok((result, targets, data))
}

/// Puts the call's times on an order registered during it (the order's version stays: this
/// is no change anyone acts on). Returns its number.
fn link_order(tx: &WriteTx, id: OrderId, c: &CallRecord) -> Result<Option<String>, AppError> {
    let Some(old) = orders::get(tx, id)? else {
        return Ok(None);
    };
    let mut o = old.clone();
    o.call = Some(CallLink::of(c));
    if o != old {
        orders::put(tx, Some(&old), &o)?;
    }
    Ok(Some(o.number))
}

/// The call an intake form is opened for: its number to fill in (staff who register calls).
pub fn for_intake(app: &App, actor: &Actor, call_id: &str) -> Result<CallRecord, AppError> {
    actor.require(Permission::OrdersCreate)?;
    if actor.channel.is_some() || !valid_call_id(call_id) {
        return Err(AppError::NotFound);
    }
    let now = app.now();
    let c = app
        .store
        .read(|tx| calls::get(tx, call_id))?
        .ok_or(AppError::NotFound)?;
    if now.0 - c.ringing_at.0 > INTAKE_WINDOW_MS {
        return Err(AppError::NotFound);
    }
    // The call is the seat's: an operator elsewhere gets nothing from guessing its id (the
    // shift lead, who covers every seat, opens any).
    if actor.role != crate::domain::role::Role::ShiftLead
        && super::auth::my_seat(app, actor)? != Some(c.seat)
    {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

/// Links an order being registered to its call, in the intake's transaction.
pub fn link_in_intake(
    tx: &WriteTx,
    call_id: &str,
    order: &mut crate::domain::order::Order,
) -> Result<(), AppError> {
    let mut c = match valid_call_id(call_id) {
        true => calls::get(tx, call_id)?,
        false => None,
    }
    .ok_or_else(|| AppError::invalid("call_id", "没有这个来电记录"))?;
    if !c.orders.contains(&order.id) {
        c.orders.push(order.id);
        calls::put(tx, &c)?;
    }
    order.call = Some(CallLink::of(&c));
    Ok(())
}

/// A call ringing at `seat` within the last moments, for a browser connecting just now.
pub fn ringing_at(app: &App, seat: u8) -> Option<Push> {
    let now = app.now();
    let ringing = app.ringing.lock().unwrap_or_else(|p| p.into_inner());
    ringing
        .get(&seat)
        .map(|(_, p)| p)
        .filter(|p| now.0 - p.at.0 <= RING_OFFER_MS)
        .cloned()
}

/// Whether a session (by key) is still signed in: an event stream ends when it is not.
pub fn session_live(app: &App, key: &[u8]) -> bool {
    let now = app.now();
    let idle = app.settings().idle_secs();
    app.store
        .read(|tx| sessions::get(tx, key))
        .ok()
        .flatten()
        .is_some_and(|s| {
            matches!(
                s.state(now, idle),
                crate::domain::session::SessionState::Live { .. }
            )
        })
}
