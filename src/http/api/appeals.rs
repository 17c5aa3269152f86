//! Unit appeals against the assessment over JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::order::OrderId;
use crate::error::AppError;
use crate::http::extract::{ApiJson, IdPath, Q};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::appeals::{self, AppealView, Decision, NewAppeal};

pub async fn file(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewAppeal>,
) -> Result<(StatusCode, Json<AppealView>), AppError> {
    let a = blocking(&state, move |app| {
        appeals::file(app, &actor, OrderId(id), body)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    #[serde(default)]
    state: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<StateQuery>,
) -> Result<Json<Value>, AppError> {
    let (items, total) = blocking(&state, move |app| {
        appeals::list(app, &actor, q.state.as_deref())
    })
    .await?;
    Ok(Json(json!({"items": items, "total": total})))
}

pub async fn decide(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Decision>,
) -> Result<Json<AppealView>, AppError> {
    Ok(Json(
        blocking(&state, move |app| appeals::decide(app, &actor, id, body)).await?,
    ))
}
