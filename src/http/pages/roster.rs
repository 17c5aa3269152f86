//! The roster page (排班): the week's grid for everyone on the centre's staff; the shift lead
//! edits it, fills it from the week before or a template and decides swaps; an operator sees
//! their shifts and asks to swap.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;
use crate::http::extract::{IdPath, PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::{Actor, roster};

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    week: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

async fn render(
    state: &AppState,
    actor: &Actor,
    week: Option<String>,
    flash: Option<String>,
    status: StatusCode,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (v, mine) = blocking(state, move |app| {
        let week = week
            .filter(|w| crate::domain::roster::parse_week(w).is_some())
            .unwrap_or_else(|| roster::this_week(app));
        let mine =
            if crate::domain::role::allows(a.role, crate::domain::role::Permission::RosterSwap) {
                roster::my_shifts(app, &a)?
            } else {
                Vec::new()
            };
        Ok((roster::get(app, &a, &week)?, mine))
    })
    .await?;
    let ctx = json!({
        "r": v,
        "mine": mine,
        "can_edit": crate::domain::role::allows(actor.role, crate::domain::role::Permission::RosterManage),
        "can_swap": crate::domain::role::allows(actor.role, crate::domain::role::Permission::RosterSwap),
        "me": actor.id.0,
        "error": error.map(|e| e.to_string()),
    });
    let l = layout(state, Some(actor), "roster").with_flash(flash);
    Ok((status, page(l, "roster.html", ctx)?).into_response())
}

pub async fn index(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PageQuery>,
) -> Result<Response, AppError> {
    render(&state, &actor, q.week, q.ok, StatusCode::OK, None).await
}

/// `GET /roster/export?week=`: the week as XLSX.
pub async fn export(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PageQuery>,
) -> Result<Response, AppError> {
    let v = blocking(&state, move |app| {
        let week = q.week.unwrap_or_else(|| roster::this_week(app));
        roster::get(app, &actor, &week)
    })
    .await?;
    crate::http::export::download_named(
        &roster::table(&v),
        crate::http::export::Format::Xlsx,
        &format!("排班-{}", v.week),
    )
}

fn back(week: &str, ok: &str) -> Response {
    crate::http::see_other(&format!(
        "/roster?week={}&ok={ok}",
        crate::http::guard::urlencode(week)
    ))
    .into_response()
}

/// After a refused form: the page again with the message.
async fn refused(
    state: &AppState,
    actor: &Actor,
    week: String,
    e: AppError,
) -> Result<Response, AppError> {
    match e {
        AppError::Invalid { .. } | AppError::Conflict { .. } => {
            render(
                state,
                actor,
                Some(week),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
            )
            .await
        }
        e => Err(e),
    }
}

/// `POST /roster`: the whole grid (`cell_<day>_<slot>_<seat>` = username).
pub async fn save(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let week = f.get("week").cloned().unwrap_or_default();
    let mut cells = Vec::new();
    for (k, v) in &f {
        let Some(rest) = k.strip_prefix("cell_") else {
            continue;
        };
        let parts: Vec<u8> = rest.split('_').filter_map(|p| p.parse().ok()).collect();
        if let [day, slot, seat] = parts[..] {
            cells.push(roster::CellIn {
                day,
                slot,
                seat,
                user: Some(v.clone()).filter(|u| !u.trim().is_empty()),
            });
        }
    }
    let body = roster::RosterPut {
        slots: None,
        cells,
        version: f.get("version").and_then(|v| v.parse().ok()),
    };
    let (a, w) = (actor.clone(), week.clone());
    match blocking(&state, move |app| roster::put(app, &a, &w, &body)).await {
        Ok(_) => Ok(back(&week, "roster_saved")),
        Err(e) => refused(&state, &actor, week, e).await,
    }
}

#[derive(Deserialize)]
pub struct CopyForm {
    week: String,
    #[serde(default)]
    template: String,
}

/// `POST /roster/copy`: from the week before, or a template.
pub async fn copy(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<CopyForm>,
) -> Result<Response, AppError> {
    let week = f.week.clone();
    let source = if f.template.trim().is_empty() {
        roster::Source::Week(crate::domain::roster::shift_week(&week, -1).unwrap_or_default())
    } else {
        roster::Source::Template(f.template.trim().to_string())
    };
    let (a, w) = (actor.clone(), week.clone());
    match blocking(&state, move |app| roster::copy(app, &a, &w, source)).await {
        Ok(()) => Ok(back(&week, "roster_copied")),
        Err(e) => refused(&state, &actor, week, e).await,
    }
}

#[derive(Deserialize)]
pub struct TemplateForm {
    week: String,
    #[serde(default)]
    name: String,
}

/// `POST /roster/template`: keep this week as a template.
pub async fn template(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<TemplateForm>,
) -> Result<Response, AppError> {
    let week = f.week.clone();
    let (a, w) = (actor.clone(), week.clone());
    match blocking(&state, move |app| {
        roster::save_template(app, &a, &w, &f.name)
    })
    .await
    {
        Ok(()) => Ok(back(&week, "template_saved")),
        Err(e) => refused(&state, &actor, week, e).await,
    }
}

#[derive(Deserialize)]
pub struct SwapForm {
    week: String,
    /// `<day>_<slot>_<seat>` of one's own shift.
    #[serde(default)]
    mine: String,
    /// `<day>_<slot>_<seat>` of a colleague's shift this week…
    #[serde(default)]
    with: String,
    /// …or the colleague who covers.
    #[serde(default)]
    to_user: String,
    #[serde(default)]
    reason: String,
}

fn place(s: &str) -> Option<(u8, u8, u8)> {
    let p: Vec<u8> = s.split('_').filter_map(|x| x.parse().ok()).collect();
    match p[..] {
        [a, b, c] => Some((a, b, c)),
        _ => None,
    }
}

/// `POST /roster/swaps`: an operator asks to swap.
pub async fn swap(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<SwapForm>,
) -> Result<Response, AppError> {
    let week = f.week.clone();
    let Some((day, slot, seat)) = place(&f.mine) else {
        let e = AppError::invalid("slot", "请选择自己的一个班次");
        return refused(&state, &actor, week, e).await;
    };
    let with = place(&f.with).map(|(d, s, t)| roster::SwapPlace {
        week: week.clone(),
        day: d,
        slot: s,
        seat: t,
    });
    let body = roster::SwapIn {
        week: week.clone(),
        day,
        slot,
        seat,
        with,
        to_user: Some(f.to_user.clone()).filter(|u| !u.trim().is_empty()),
        reason: f.reason.clone(),
    };
    let a = actor.clone();
    match blocking(&state, move |app| roster::request_swap(app, &a, &body)).await {
        Ok(_) => Ok(back(&week, "swap_requested")),
        Err(e) => refused(&state, &actor, week, e).await,
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    week: String,
    #[serde(default)]
    approve: String,
    #[serde(default)]
    note: String,
}

/// `POST /roster/swaps/{id}/decide`.
pub async fn decide(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    PageForm(f): PageForm<DecideForm>,
) -> Result<Response, AppError> {
    let week = f.week.clone();
    let approve = f.approve == "1";
    let a = actor.clone();
    match blocking(&state, move |app| {
        roster::decide_swap(app, &a, id, approve, Some(&f.note))
    })
    .await
    {
        Ok(()) => Ok(back(&week, "swap_decided")),
        Err(e) => refused(&state, &actor, week, e).await,
    }
}
