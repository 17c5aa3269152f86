//! Backups for the admin: list, last run, disk space, 立即备份, download; and the JSON API.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use serde::{Deserialize, Serialize};

use super::Flash;
use crate::domain::settings::Settings;
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::{Actor, backups, settings, system};

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

/// The backup settings as the form shows them.
#[derive(Serialize, Deserialize, Default)]
pub struct BackupSettingsForm {
    #[serde(default)]
    backup_time: String,
    #[serde(default)]
    backup_copy_dir: String,
    #[serde(default)]
    backup_age_recipient: String,
}

impl BackupSettingsForm {
    fn from_settings(s: &Settings) -> Self {
        Self {
            backup_time: s.backup_time.clone(),
            backup_copy_dir: s.backup_copy_dir.clone(),
            backup_age_recipient: s.backup_age_recipient.clone(),
        }
    }
}

pub async fn index(
    State(state): State<AppState>,
    actor: Actor,
    Q(f): Q<Flash>,
) -> Result<Response, AppError> {
    let form = BackupSettingsForm::from_settings(&state.app.settings());
    backups_page(&state, &actor, f.ok, StatusCode::OK, form, None).await
}

pub async fn save_settings(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<BackupSettingsForm>,
) -> Result<Response, AppError> {
    let mut s = state.app.settings();
    s.backup_time = f.backup_time.clone();
    s.backup_copy_dir = f.backup_copy_dir.clone();
    s.backup_age_recipient = f.backup_age_recipient.clone();
    let a = actor.clone();
    match blocking(&state, move |app| settings::update(app, &a, s)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/backups?ok=settings_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            backups_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Some(e),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn backups_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    form: BackupSettingsForm,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (items, last, info) = blocking(state, move |app| {
        Ok((
            backups::list(app, &a)?,
            backups::last_run(app)?,
            system::info(app, &a)?,
        ))
    })
    .await?;
    let current = state.app.settings();
    let copy_dir = current.backup_copy_dir.clone();
    let ctx = minijinja::context! {
        items => items,
        last => json!({
            "at": last.at.map(|t| t.display_cst()), "ok": last.ok, "name": last.name,
            "error": last.error, "copy": last.copy, "copy_error": last.copy_error,
        }),
        disk_free_mb => info.disk_free_mb,
        backup_time => current.backup_time,
        copy_dir_present => !copy_dir.is_empty() && std::path::Path::new(&copy_dir).is_dir(),
        copy_dir => copy_dir,
        form => form,
        error_field => error.as_ref().and_then(|e| e.field().map(str::to_string)),
        error => error.map(|e| e.to_string()),
    };
    let l = layout(state, Some(actor), "backups").with_flash(flash);
    Ok((status, page(l, "admin/backups.html", ctx)?).into_response())
}

pub async fn run(State(state): State<AppState>, actor: Actor) -> Result<Response, AppError> {
    blocking(&state, move |app| backups::run_as(app, &actor)).await?;
    Ok(crate::http::see_other("/admin/backups?ok=backup_done").into_response())
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
