//! QA inspection (质检) over JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::order::OrderId;
use crate::domain::qa::QaRules;
use crate::error::AppError;
use crate::http::extract::{ApiJson, IdPath, Q};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::qa::{self, InspectionView, NewInspection, RulesChange};
use crate::service::reports::Period;

pub async fn get_rubric(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<QaRules>, AppError> {
    Ok(Json(
        blocking(&state, move |app| qa::rules(app, &actor)).await?,
    ))
}

pub async fn put_rubric(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(change): ApiJson<RulesChange>,
) -> Result<Json<QaRules>, AppError> {
    Ok(Json(
        blocking(&state, move |app| qa::save_rules(app, &actor, change)).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    #[serde(default)]
    date: Option<String>,
}

pub async fn samples(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<DateQuery>,
) -> Result<Json<Value>, AppError> {
    let s = blocking(&state, move |app| {
        qa::samples(app, &actor, q.date.as_deref())
    })
    .await?;
    let items: Vec<Value> = s
        .operators
        .iter()
        .flat_map(|o| {
            o.items.iter().map(move |i| {
                json!({"order": i, "operator": {"id": o.operator, "display_name": o.name}})
            })
        })
        .collect();
    Ok(Json(
        json!({"date": s.date, "items": items, "total": s.total}),
    ))
}

pub async fn inspect(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewInspection>,
) -> Result<(StatusCode, Json<InspectionView>), AppError> {
    let v = blocking(&state, move |app| {
        qa::inspect(app, &actor, OrderId(id), body)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    operator: Option<u64>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let now = state.app.now();
    let period = match (&q.from, &q.to) {
        (None, None) => {
            let to = now.plus_secs(86_400).cst_day();
            let from = now.plus_secs(-30 * 86_400).cst_day();
            Period::parse(Some(&from), Some(&to), now)?
        }
        _ => Period::parse(q.from.as_deref(), q.to.as_deref(), now)?,
    };
    let items = blocking(&state, move |app| {
        qa::list(app, &actor, q.operator, &period)
    })
    .await?;
    let total = items.len();
    Ok(Json(json!({"items": items, "total": total})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    reason: String,
}

pub async fn appeal(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AppealBody>,
) -> Result<Json<InspectionView>, AppError> {
    Ok(Json(
        blocking(&state, move |app| qa::appeal(app, &actor, id, &body.reason)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideBody {
    uphold: bool,
    #[serde(default)]
    note: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Json<InspectionView>, AppError> {
    Ok(Json(
        blocking(&state, move |app| {
            qa::decide(app, &actor, id, body.uphold, body.note.as_deref())
        })
        .await?,
    ))
}
