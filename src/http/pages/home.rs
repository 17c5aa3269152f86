//! Each role's home page: its work queues.

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::Flash;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::extract::Q;
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::handover;
use crate::service::orders::queues;

/// The home page's query: a flash, and how the queues are sorted (`sort=due_desc`: the latest
/// deadline first; otherwise the earliest, the longest late first).
#[derive(serde::Deserialize, Default)]
pub struct HomeQuery {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    sort: Option<String>,
}

pub async fn home(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<HomeQuery>,
) -> Result<Response, AppError> {
    let flash = Flash { ok: q.ok };
    let late_first = q.sort.as_deref() == Some("due_desc");
    if actor.role == Role::Admin {
        return super::admin::overview_page(&state, &actor, flash.ok).await;
    }
    let a = actor.clone();
    let (qs, board, notes, dash, plan, shifts) = blocking(&state, move |app| {
        let qs = queues::for_actor(app, &a, late_first)?;
        use crate::service::reports::dashboard::{self, Count, Known};
        let read = |key: &str| {
            qs.iter().find(|q| q.key == key).map(|q| Count {
                n: q.count,
                more: q.more,
            })
        };
        let known = Known {
            overdue: read("overdue"),
            due_soon: read("due_soon"),
        };
        let dash = dashboard::for_actor(app, &a, known)?;
        let lead = matches!(a.role, Role::ShiftLead | Role::Supervisor);
        let board = if a.role == Role::ShiftLead {
            queues::board(app, &a)?
        } else {
            Vec::new()
        };
        let notes = if lead {
            handover::recent(app, &a, 10)?
        } else {
            Vec::new()
        };
        // The shift lead's board puts the roster's plan beside who is signed in; an operator
        // sees their next shifts.
        let plan = if a.role == Role::ShiftLead {
            crate::service::roster::planned(app, &a)?
        } else {
            Vec::new()
        };
        let shifts = if a.role == Role::Operator {
            let mut s = crate::service::roster::my_shifts(app, &a)?;
            s.truncate(3);
            s
        } else {
            Vec::new()
        };
        Ok((qs, board, notes, dash, plan, shifts))
    })
    .await?;
    let l = layout(&state, Some(&actor), "home").with_flash(flash.ok);
    let sort = if late_first { "due_desc" } else { "due" };
    let seat = if matches!(actor.role, Role::Operator | Role::ShiftLead) {
        let a = actor.clone();
        blocking(&state, move |app| crate::service::auth::my_seat(app, &a)).await?
    } else {
        None
    };
    let plan: Vec<serde_json::Value> = plan
        .into_iter()
        .map(|(seat, name)| serde_json::json!({"seat": seat, "name": name}))
        .collect();
    let ctx = minijinja::context! { queues => qs, board => board, notes => notes, dash => dash, sort => sort, seat => seat, plan => plan, shifts => shifts };
    Ok(page(l, "home.html", ctx)?.into_response())
}

#[derive(serde::Deserialize)]
pub struct HandoverForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    open: String,
}

pub async fn handover_submit(
    State(state): State<AppState>,
    actor: Actor,
    crate::http::extract::PageForm(f): crate::http::extract::PageForm<HandoverForm>,
) -> Result<Response, AppError> {
    let open: Vec<String> = f
        .open
        .split([',', '，', ' ', '\n'])
        .map(str::to_string)
        .collect();
    blocking(&state, move |app| {
        handover::add(app, &actor, &f.text, &open)
    })
    .await?;
    Ok(crate::http::see_other("/?ok=handover_saved#handover").into_response())
}

#[derive(serde::Deserialize)]
pub struct SeatForm {
    #[serde(default)]
    seat: String,
}

/// `POST /me/seat`: the operator takes a seat (1–4) or leaves it (empty).
pub async fn seat_submit(
    State(state): State<AppState>,
    actor: Actor,
    crate::http::extract::PageForm(f): crate::http::extract::PageForm<SeatForm>,
) -> Result<Response, AppError> {
    let seat = match f.seat.trim() {
        "" | "0" => None,
        s => Some(
            s.parse::<u8>()
                .map_err(|_| AppError::invalid("seat", "席位应为 1—4"))?,
        ),
    };
    let flash = if seat.is_some() {
        "seat_taken"
    } else {
        "seat_left"
    };
    match blocking(&state, move |app| {
        crate::service::auth::take_seat(app, &actor, seat)
    })
    .await
    {
        Ok(()) => Ok(crate::http::see_other(&format!("/?ok={flash}")).into_response()),
        Err(AppError::Conflict { .. }) => {
            Ok(crate::http::see_other("/?ok=seat_busy").into_response())
        }
        Err(e) => Err(e),
    }
}
