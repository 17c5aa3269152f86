//! Health: answers without a session and shows no data.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::{AppState, blocking};

pub async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    // A read transaction proves the database answers.
    blocking(&state, |app| {
        app.store
            .read(crate::store::meta::schema_version)
            .map(|_| ())
            .map_err(AppError::from)
    })
    .await?;
    Ok(Json(json!({"status": "ok"})))
}
