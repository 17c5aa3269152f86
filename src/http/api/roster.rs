//! The duty roster over JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::extract::{ApiJson, IdPath, Q};
use crate::http::{AppState, blocking};
use crate::service::{Actor, roster};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WeekQuery {
    #[serde(default)]
    pub week: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET /api/v1/roster?week=YYYY-Www` (this week by default); `format=xlsx` downloads it.
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<WeekQuery>,
) -> Result<Response, AppError> {
    let format = crate::http::export::Format::parse(q.format.as_deref())?;
    let v = blocking(&state, move |app| {
        let week = q.week.clone().unwrap_or_else(|| roster::this_week(app));
        roster::get(app, &actor, &week)
    })
    .await?;
    match format {
        crate::http::export::Format::Json => Ok(Json(v).into_response()),
        f => {
            crate::http::export::download_named(&roster::table(&v), f, &format!("排班-{}", v.week))
        }
    }
}

/// `PUT /api/v1/roster?week=YYYY-Www` `{slots?, cells: [{day, slot, seat, user}], version?}`.
pub async fn put(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<WeekQuery>,
    ApiJson(body): ApiJson<roster::RosterPut>,
) -> Result<Json<roster::RosterView>, AppError> {
    let week = q
        .week
        .ok_or_else(|| AppError::invalid("week", "请指明周次 week=YYYY-Www"))?;
    Ok(Json(
        blocking(&state, move |app| roster::put(app, &actor, &week, &body)).await?,
    ))
}

/// `POST /api/v1/roster/swaps`.
pub async fn request_swap(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<roster::SwapIn>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let id = blocking(&state, move |app| roster::request_swap(app, &actor, &body)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "state": "pending"})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decide {
    approve: bool,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/v1/roster/swaps/{id}/decide` `{approve, note?}`.
pub async fn decide_swap(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<Decide>,
) -> Result<Json<Value>, AppError> {
    blocking(&state, move |app| {
        roster::decide_swap(app, &actor, id, b.approve, b.note.as_deref())
    })
    .await?;
    Ok(Json(
        json!({"id": id, "state": if b.approve { "approved" } else { "rejected" }}),
    ))
}
