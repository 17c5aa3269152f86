//! Health: answers without a session and shows no data. `503` while the store cannot write
//! (a full disk), so monitoring and the watchdog see it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::AppError;
use crate::http::{AppState, blocking};
use crate::store::Health;

pub async fn healthz(State(state): State<AppState>) -> Result<Response, AppError> {
    let health = blocking(&state, crate::service::system::health).await?;
    Ok(match health {
        Health::Ok => Json(json!({"status": "ok"})).into_response(),
        Health::DiskFull { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "degraded", "store": "disk_full", "message": "磁盘空间不足，暂停保存"})),
        )
            .into_response(),
        Health::Failed { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "degraded", "store": "failed", "message": "数据库故障，正在自动恢复"})),
        )
            .into_response(),
    })
}
