//! Uploading and downloading attachments (raw body over the API, multipart from the page).

use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::Q;
use super::{AppState, blocking};
use crate::domain::attachment::MAX_BYTES;
use crate::domain::order::OrderId;
use crate::error::AppError;
use crate::service::{Actor, orders};

#[derive(Deserialize, Default)]
pub struct NameQuery {
    #[serde(default)]
    name: Option<String>,
}

/// `POST /api/v1/orders/{id}/attachments?name=…` with the file as the body.
pub async fn api_upload(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Q(q): Q<NameQuery>,
    req: Request,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), AppError> {
    let id = OrderId(super::extract::path_id(&id)?);
    let bytes = to_bytes(req.into_body(), MAX_BYTES + 1)
        .await
        .map_err(|_| AppError::TooLarge)?;
    let name = q.name.unwrap_or_default();
    let r = blocking(&state, move |app| {
        orders::attach(app, &actor, id, &name, &bytes)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(serde_json::json!(r))))
}

/// The order page's upload form (multipart; the CSRF token rides in the query string).
pub async fn page_upload(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let id = OrderId(super::extract::path_id(&id)?);
    let fields = super::extract::multipart(req, MAX_BYTES as u64).await?;
    let file = fields
        .into_iter()
        .find(|f| f.name == "file")
        .map(|f| (f.file_name, f.bytes));
    let (name, bytes) = file.ok_or_else(|| AppError::invalid("file", "请选择要上传的文件"))?;
    blocking(&state, move |app| {
        orders::attach(app, &actor, id, &name, &bytes)
    })
    .await?;
    Ok(crate::http::see_other(&format!("/orders/{}?ok=attach", id.0)).into_response())
}

pub async fn download(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, hash)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = OrderId(super::extract::path_id(&id)?);
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let (r, bytes) = blocking(&state, move |app| {
        orders::attachment(app, &actor, id, &hash)
    })
    .await?;
    let mut resp = Body::from(bytes).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&r.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let encoded = super::guard::urlencode(&r.name);
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}
