//! Dispatch suggestions over JSON, and their measured accuracy for the admin.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::extract::Q;
use crate::http::{AppState, blocking};
use crate::service::{Actor, suggest};

/// `GET /api/v1/suggest/units?category=&town=&text=` → `{items: [{unit, confidence}]}`.
pub async fn units(
    State(state): State<AppState>,
    actor: Actor,
    Q(ask): Q<suggest::Ask>,
) -> Result<Json<Value>, AppError> {
    let items = blocking(&state, move |app| suggest::units_for(app, &actor, &ask)).await?;
    let total = items.len();
    Ok(Json(json!({"items": items, "total": total})))
}

/// `GET /api/v1/admin/suggest`: the last measured top-1 and top-3 accuracy.
pub async fn accuracy(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Value>, AppError> {
    let a = blocking(&state, move |app| suggest::accuracy(app, &actor)).await?;
    Ok(Json(json!({"accuracy": a})))
}

/// `POST /api/v1/admin/suggest`: measure again now.
pub async fn evaluate(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Value>, AppError> {
    let a = blocking(&state, move |app| suggest::evaluate_as(app, &actor)).await?;
    Ok(Json(json!({"accuracy": a})))
}
