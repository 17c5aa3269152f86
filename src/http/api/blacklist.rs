//! The blacklist and a number's harassment record over JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::extract::ApiJson;
use crate::http::{AppState, blocking};
use crate::service::{Actor, blacklist};

pub async fn list(State(state): State<AppState>, actor: Actor) -> Result<Json<Value>, AppError> {
    let items = blocking(&state, move |app| blacklist::list(app, &actor)).await?;
    let total = items.len();
    Ok(Json(json!({"items": items, "total": total})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    phone: String,
    reason: String,
    review_date: String,
}

pub async fn add(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<AddBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let e = blocking(&state, move |app| {
        blacklist::add(app, &actor, &b.phone, &b.reason, &b.review_date)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!(e))))
}

pub async fn lift(
    State(state): State<AppState>,
    actor: Actor,
    Path(phone): Path<String>,
) -> Result<Json<Value>, AppError> {
    let e = blocking(&state, move |app| blacklist::lift(app, &actor, &phone)).await?;
    Ok(Json(json!(e)))
}

pub async fn record(
    State(state): State<AppState>,
    actor: Actor,
    Path(phone): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        blocking(&state, move |app| blacklist::record(app, &actor, &phone)).await?,
    ))
}
