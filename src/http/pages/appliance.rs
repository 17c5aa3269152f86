//! The box itself, for the admin: the TLS certificate (upload, swap without restart, back
//! to the local one) and updates (bundles on USB sticks or uploaded, 升级).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::Flash;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::http::extract::{PageForm, Q, multipart};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking, tls};
use crate::service::{Actor, audit, updates};

/// A PEM certificate or key is small; this is generous.
const MAX_PEM_BYTES: u64 = 256 * 1024;

#[derive(Serialize)]
struct CertView {
    fingerprint: String,
    ca_fingerprint: Option<String>,
    expires: String,
    days_left: i64,
    uploaded: bool,
}

fn cert_view(state: &AppState, now: Timestamp) -> Option<CertView> {
    state.cert_summary().map(|c| CertView {
        expires: Timestamp::from_secs(c.not_after_unix).display_cst(),
        days_left: (c.not_after_unix - now.secs()) / 86400,
        fingerprint: c.fingerprint_sha256,
        ca_fingerprint: c.ca_fingerprint_sha256,
        uploaded: c.uploaded,
    })
}

async fn tls_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let ctx = minijinja::context! {
        cert => cert_view(state, state.app.now()),
        error => error,
    };
    let l = layout(state, Some(actor), "tls").with_flash(flash);
    Ok((status, page(l, "admin/tls.html", ctx)?).into_response())
}

pub async fn tls_index(
    State(state): State<AppState>,
    actor: Actor,
    Q(f): Q<Flash>,
) -> Result<Response, AppError> {
    tls_page(&state, &actor, f.ok, StatusCode::OK, None).await
}

/// `POST /admin/tls` (multipart `cert`, `key`): checked, kept, and served to new connections
/// at once. A bad pair is refused with the reason and changes nothing.
pub async fn tls_upload(
    State(state): State<AppState>,
    actor: Actor,
    req: Request,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let Some(resolver) = state.cert.clone() else {
        return Err(AppError::conflict(
            "no_tls",
            "本机未启用 HTTPS，无法更换证书",
        ));
    };
    let parts = multipart(req, MAX_PEM_BYTES).await?;
    let get = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && !p.bytes.is_empty())
            .map(|p| p.bytes.clone())
    };
    let (Some(cert), Some(key)) = (get("cert"), get("key")) else {
        let msg = "请同时选择证书文件（.pem/.crt）和私钥文件（.key）".to_string();
        return tls_page(
            &state,
            &actor,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg),
        )
        .await;
    };
    let data = state.app.data_dir.clone();
    let checked = blocking(&state, move |_| Ok(tls::install_upload(&data, &cert, &key))).await?;
    match checked {
        Ok((key, summary)) => {
            let detail = format!(
                "上传证书 SHA-256 {}，有效期至 {}",
                summary.fingerprint_sha256,
                Timestamp::from_secs(summary.not_after_unix).display_cst()
            );
            resolver.replace(key, summary);
            audit::record(&state.app, actor.event("tls.upload", None, detail))?;
            Ok(crate::http::see_other("/admin/tls?ok=cert_swapped").into_response())
        }
        Err(msg) => {
            tls_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(msg),
            )
            .await
        }
    }
}

/// `POST /admin/tls/local`: back to the box's own certificate.
pub async fn tls_local(State(state): State<AppState>, actor: Actor) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let Some(resolver) = state.cert.clone() else {
        return Err(AppError::conflict(
            "no_tls",
            "本机未启用 HTTPS，无法更换证书",
        ));
    };
    let data = state.app.data_dir.clone();
    let (key, summary) = blocking(&state, move |_| {
        tls::remove_upload(&data).map_err(|e| AppError::Internal(e.to_string()))
    })
    .await?;
    let detail = format!("恢复本机证书 SHA-256 {}", summary.fingerprint_sha256);
    resolver.replace(key, summary);
    audit::record(&state.app, actor.event("tls.local", None, detail))?;
    Ok(crate::http::see_other("/admin/tls?ok=cert_swapped").into_response())
}

// ---- updates ----

#[derive(Serialize)]
struct StateView {
    phase: &'static str,
    from_version: String,
    to_version: String,
    at: String,
    forced: bool,
    note: Option<String>,
}

async fn updates_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (found, last) = blocking(state, move |app| {
        Ok((updates::scan(app, &a)?, updates::state(app)))
    })
    .await?;
    let last = last.map(|s| StateView {
        phase: match s.phase {
            crate::update::install::Phase::Pending => "pending",
            crate::update::install::Phase::Confirmed => "confirmed",
            crate::update::install::Phase::RolledBack => "rolled_back",
        },
        from_version: s.from_version,
        to_version: s.to_version,
        at: Timestamp::from_secs(s.at_unix).display_cst(),
        forced: s.forced,
        note: s.note,
    });
    let settings = state.app.settings();
    let ctx = minijinja::context! {
        found => found,
        last => last,
        version => crate::service::system::VERSION,
        target => crate::update::TARGET,
        release_keys => crate::update::RELEASE_KEYS.len(),
        dev_key => crate::update::DEV_KEY_TRUSTED,
        paths => settings.update_paths,
        error => error,
    };
    let l = layout(state, Some(actor), "updates").with_flash(flash);
    Ok((status, page(l, "admin/updates.html", ctx)?).into_response())
}

pub async fn updates_index(
    State(state): State<AppState>,
    actor: Actor,
    Q(f): Q<Flash>,
) -> Result<Response, AppError> {
    updates_page(&state, &actor, f.ok, StatusCode::OK, None).await
}

/// `POST /admin/updates/upload` (multipart `bundle`): kept only when it verifies.
pub async fn updates_upload(
    State(state): State<AppState>,
    actor: Actor,
    req: Request,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let parts = multipart(req, updates::MAX_BUNDLE_BYTES).await?;
    let Some(bundle) = parts
        .into_iter()
        .find(|p| p.name == "bundle" && !p.bytes.is_empty())
    else {
        let msg = "请选择升级包文件（*.hotline-update）".to_string();
        return updates_page(
            &state,
            &actor,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg),
        )
        .await;
    };
    let a = actor.clone();
    match blocking(&state, move |app| updates::upload(app, &a, &bundle.bytes)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/updates?ok=bundle_uploaded").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            updates_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    path: String,
    /// The admin ticked "I have read the warning".
    #[serde(default)]
    confirm: Option<String>,
    #[serde(default)]
    force: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/updates/apply`: back up, check, swap, and restart into the new binary.
pub async fn updates_apply(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<ApplyForm>,
) -> Result<Response, AppError> {
    if f.confirm.is_none() {
        let msg = "请先勾选“我已了解升级期间系统将短暂停止服务”".to_string();
        return updates_page(
            &state,
            &actor,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg),
        )
        .await;
    }
    let a = actor.clone();
    let force = f.force.is_some();
    let outcome = blocking(&state, move |app| {
        updates::apply(app, &a, &f.path, force, &f.reason)
    })
    .await;
    match outcome {
        Ok(s) => {
            // Answer first, then stop gracefully and restart into the new binary.
            state.app.restart.notify_one();
            let ctx = minijinja::context! {
                from_version => s.from_version,
                to_version => s.to_version,
            };
            let l = layout(&state, Some(&actor), "updates");
            Ok(page(l, "admin/restarting.html", ctx)?.into_response())
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. } | AppError::NotFound)) => {
            let msg = match e {
                AppError::NotFound => "该升级包已不在原位置（U 盘已拔出？），请刷新后重试".into(),
                other => other.to_string(),
            };
            updates_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(msg),
            )
            .await
        }
        Err(e) => Err(e),
    }
}
