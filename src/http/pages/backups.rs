//! Backups for the admin: list, last run, disk space, 立即备份, download; and the JSON API.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::Flash;
use crate::error::AppError;
use crate::http::extract::Q;
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::{Actor, backups, system};

pub async fn api_run(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<(StatusCode, axum::Json<Value>), AppError> {
    let (info, manifest) = blocking(&state, move |app| backups::run_as(app, &actor)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            json!({"name": info.name, "bytes": info.bytes, "created_at": info.created_at, "manifest": manifest}),
        ),
    ))
}

pub async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Value>, AppError> {
    let (items, last) = blocking(&state, move |app| {
        Ok((backups::list(app, &actor)?, backups::last_run(app)?))
    })
    .await?;
    let total = items.len();
    Ok(axum::Json(
        json!({"items": items, "total": total, "last_run": last}),
    ))
}

pub async fn index(
    State(state): State<AppState>,
    actor: Actor,
    Q(f): Q<Flash>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (items, last, info) = blocking(&state, move |app| {
        Ok((
            backups::list(app, &a)?,
            backups::last_run(app)?,
            system::info(app, &a)?,
        ))
    })
    .await?;
    let ctx = minijinja::context! {
        items => items,
        last => json!({"at": last.at.map(|t| t.display_cst()), "ok": last.ok, "name": last.name, "error": last.error}),
        disk_free_mb => info.disk_free_mb,
    };
    let l = layout(&state, Some(&actor), "backups").with_flash(f.ok);
    Ok(page(l, "admin/backups.html", ctx)?.into_response())
}

pub async fn run(State(state): State<AppState>, actor: Actor) -> Result<Response, AppError> {
    blocking(&state, move |app| backups::run_as(app, &actor)).await?;
    Ok(Redirect::to("/admin/backups?ok=backup_done").into_response())
}

pub async fn download(
    State(state): State<AppState>,
    actor: Actor,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let path = blocking(&state, move |app| {
        let items = backups::list(app, &a)?;
        let found = items
            .iter()
            .find(|i| i.name == name)
            .ok_or(AppError::NotFound)?;
        Ok(backups::dir(app).join(&found.name))
    })
    .await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| AppError::NotFound)?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let stream = tokio_util_stream(file);
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Streams a file in 64 KiB chunks without loading it whole.
fn tokio_util_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> {
    futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}
