//! The admin's pages: overview, users, audit log, settings (units are in `units`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::Flash;
use crate::domain::role::Role;
use crate::domain::settings::Settings;
use crate::domain::unit::Unit;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::http::extract::{IdPath, PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking, hashing};
use crate::service::users::{NewUser, UnitRef, UserPatch, UserView};
use crate::service::{Actor, audit, settings, system, units, users};

#[derive(Serialize)]
struct Cert {
    fingerprint: String,
    ca_fingerprint: Option<String>,
    expires: String,
}

pub async fn overview_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (info, calendar_warning, last_backup, update, outbox_failed) =
        blocking(state, move |app| {
            Ok((
                system::info(app, &a)?,
                crate::service::rules::calendar_warning(app)?,
                crate::service::backups::last_run(app)?,
                crate::service::updates::state(app),
                crate::service::outbox::failed_count(app)?,
            ))
        })
        .await?;
    let copy_dir = state.app.settings().backup_copy_dir;
    let usb = serde_json::json!({
        "configured": !copy_dir.is_empty(),
        "present": !copy_dir.is_empty() && std::path::Path::new(&copy_dir).is_dir(),
        "dir": copy_dir,
        "last_copy_error": last_backup.copy_error,
    });
    let update = update.map(|u| {
        serde_json::json!({
            "rolled_back": u.phase == crate::update::install::Phase::RolledBack,
            "to_version": u.to_version,
            "from_version": u.from_version,
            "note": u.note,
        })
    });
    let cert = state.cert_summary().map(|c| Cert {
        fingerprint: c.fingerprint_sha256.clone(),
        ca_fingerprint: c.ca_fingerprint_sha256.clone(),
        expires: crate::domain::time::Timestamp::from_secs(c.not_after_unix).display_cst(),
    });
    let l = layout(state, Some(actor), "admin").with_flash(flash);
    Ok(page(
        l,
        "admin/overview.html",
        minijinja::context! {
            info => info,
            cert => cert,
            calendar_warning => calendar_warning,
            usb => usb,
            update => update,
            outbox_failed => outbox_failed,
            last_backup => serde_json::json!({
                "at": last_backup.at.map(|t| t.display_cst()),
                "ok": last_backup.ok,
                "error": last_backup.error,
            }),
        },
    )?
    .into_response())
}

pub async fn overview(
    State(state): State<AppState>,
    actor: Actor,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    overview_page(&state, &actor, flash.ok).await
}

// ---- users ----

#[derive(Serialize, Default)]
struct UserForm {
    username: String,
    display_name: String,
    role: String,
    unit: String,
}

#[derive(Serialize)]
struct UserRow {
    #[serde(flatten)]
    user: UserView,
    unit_name: Option<String>,
    is_self: bool,
}

#[derive(Serialize)]
struct UsersPage {
    users: Vec<UserRow>,
    units: Vec<Unit>,
    roles: Vec<&'static str>,
    form: UserForm,
    error: Option<String>,
    error_field: Option<String>,
    /// Which row's edit form failed, to show the error there.
    error_user: Option<u64>,
}

async fn users_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    form: UserForm,
    error: Option<(AppError, Option<u64>)>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (list, unit_list) = blocking(state, move |app| {
        Ok((users::list(app, &a)?, units::list(app, &a)?))
    })
    .await?;
    let name_of = |id: Option<u64>| {
        id.and_then(|id| unit_list.iter().find(|u| u.id.0 == id))
            .map(|u| u.name.clone())
    };
    let rows = list
        .iter()
        .map(|u| UserRow {
            user: UserView::from(u),
            unit_name: name_of(u.unit.map(|x| x.0)),
            is_self: u.id == actor.id,
        })
        .collect();
    let ctx = UsersPage {
        users: rows,
        units: unit_list.clone(),
        roles: Role::ALL.iter().map(|r| r.code()).collect(),
        form,
        error_field: error
            .as_ref()
            .and_then(|(e, _)| e.field().map(str::to_string)),
        error_user: error.as_ref().and_then(|(_, u)| *u),
        error: error.map(|(e, _)| e.to_string()),
    };
    let l = layout(state, Some(actor), "users").with_flash(flash);
    Ok((status, page(l, "admin/users.html", ctx)?).into_response())
}

pub async fn users(
    State(state): State<AppState>,
    actor: Actor,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    users_page(
        &state,
        &actor,
        flash.ok,
        StatusCode::OK,
        UserForm::default(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct CreateUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    password: String,
}

fn unit_ref(s: &str) -> Option<UnitRef> {
    let s = s.trim();
    if s.is_empty() {
        None
    } else {
        Some(UnitRef::Code(s.to_string()))
    }
}

pub async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<CreateUserForm>,
) -> Result<Response, AppError> {
    let kept = UserForm {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        unit: f.unit.clone(),
    };
    let Some(role) = Role::parse(&f.role) else {
        let e = AppError::invalid("role", "请选择角色");
        return users_page(
            &state,
            &actor,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            kept,
            Some((e, None)),
        )
        .await;
    };
    let new = NewUser {
        username: f.username,
        display_name: f.display_name,
        role,
        unit: if role == Role::Unit {
            unit_ref(&f.unit)
        } else {
            None
        },
        password: f.password,
    };
    let a = actor.clone();
    match hashing(&state, move |app| users::create(app, &a, new)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/users?ok=user_created").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            users_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                kept,
                Some((e, None)),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct UpdateUserForm {
    /// `disable`, `enable`, `edit` or `reset`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

pub async fn update_user(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    PageForm(f): PageForm<UpdateUserForm>,
) -> Result<Response, AppError> {
    let (patch, flash) = match f.action.as_str() {
        "disable" => (
            UserPatch {
                disabled: Some(true),
                ..UserPatch::default()
            },
            "user_disabled",
        ),
        "enable" => (
            UserPatch {
                disabled: Some(false),
                ..UserPatch::default()
            },
            "user_enabled",
        ),
        "reset" => (
            UserPatch {
                password: Some(f.password.clone()),
                ..UserPatch::default()
            },
            "password_reset",
        ),
        "edit" => {
            let role =
                Role::parse(&f.role).ok_or_else(|| AppError::invalid("role", "请选择角色"))?;
            (
                UserPatch {
                    role: Some(role),
                    unit: Some(if role == Role::Unit {
                        unit_ref(&f.unit)
                    } else {
                        None
                    }),
                    display_name: Some(f.display_name.clone()),
                    ..UserPatch::default()
                },
                "user_updated",
            )
        }
        _ => return Err(AppError::BadRequest("未知的操作".into())),
    };
    let a = actor.clone();
    match hashing(&state, move |app| users::update(app, &a, UserId(id), patch)).await {
        Ok(_) => Ok(crate::http::see_other(&format!("/admin/users?ok={flash}")).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            users_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                UserForm::default(),
                Some((e, Some(id))),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---- audit ----

#[derive(Serialize)]
struct AuditRow {
    #[serde(flatten)]
    entry: audit::AuditLine,
    at_display: String,
}

pub async fn audit(
    State(state): State<AppState>,
    actor: Actor,
    Q(filter): Q<audit::AuditFilter>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let f = filter.clone();
    let (result, error) = match blocking(&state, move |app| audit::list(app, &a, &f)).await {
        Ok(p) => (Some(p), None),
        Err(e @ AppError::Invalid { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(e),
    };
    let (rows, page_no, has_more) = match result {
        Some(p) => (
            p.items
                .into_iter()
                .map(|e| AuditRow {
                    at_display: e.entry.at.display_cst(),
                    entry: e,
                })
                .collect::<Vec<_>>(),
            p.page,
            p.has_more,
        ),
        None => (Vec::new(), 1, false),
    };
    let query = |page: u32| {
        let mut q = vec![format!("page={page}")];
        for (k, v) in [
            ("action", &filter.action),
            ("user", &filter.user),
            ("from", &filter.from),
            ("to", &filter.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.push(format!("{k}={}", crate::http::guard::urlencode(v)));
            }
        }
        q.join("&")
    };
    let ctx = minijinja::context! {
        rows => rows,
        filter => minijinja::context! {
            action => filter.action.clone().unwrap_or_default(),
            user => filter.user.clone().unwrap_or_default(),
            from => filter.from.clone().unwrap_or_default(),
            to => filter.to.clone().unwrap_or_default(),
        },
        page_no => page_no,
        prev_query => (page_no > 1).then(|| query(page_no - 1)),
        next_query => has_more.then(|| query(page_no + 1)),
        error => error,
    };
    let l = layout(&state, Some(&actor), "audit");
    let status = if ctx.get_attr("error").is_ok_and(|e| !e.is_none()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, page(l, "admin/audit.html", ctx)?).into_response())
}

// ---- settings ----

async fn settings_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    values: Settings,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let roles: Vec<(&str, &str, String)> = Role::ALL
        .iter()
        .map(|r| {
            (
                r.code(),
                r.default_label(),
                values.role_names.get(r.code()).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let ctx = minijinja::context! {
        values => values,
        roles => roles,
        error_field => error.as_ref().and_then(|e| e.field()),
        error => error.as_ref().map(|e| e.to_string()),
    };
    let l = layout(state, Some(actor), "settings").with_flash(flash);
    Ok((status, page(l, "admin/settings.html", ctx)?).into_response())
}

pub async fn settings(
    State(state): State<AppState>,
    actor: Actor,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    let values = state.app.settings();
    settings_page(&state, &actor, flash.ok, StatusCode::OK, values, None).await
}

pub async fn save_settings(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let mut s = state.app.settings();
    s.org_name = form.get("org_name").cloned().unwrap_or_default();
    let idle = form
        .get("idle_timeout_minutes")
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    s.idle_timeout_minutes = idle.parse().unwrap_or(0);
    if let Some(p) = form.get("number_prefix") {
        s.number_prefix = p.trim().to_string();
    }
    s.role_names = Role::ALL
        .iter()
        .filter_map(|r| {
            form.get(&format!("role_{}", r.code()))
                .filter(|v| !v.trim().is_empty())
                .map(|v| (r.code().to_string(), v.clone()))
        })
        .collect();
    let a = actor.clone();
    let values = s.clone();
    match blocking(&state, move |app| settings::update(app, &a, s)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/settings?ok=settings_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            settings_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                Some(e),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// `GET /admin/suggestions`: how often the dispatch suggestions were right.
pub async fn suggestions(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let acc = blocking(&state, move |app| {
        crate::service::suggest::accuracy(app, &a)
    })
    .await?;
    let computed_at = acc
        .as_ref()
        .and_then(|a| a.computed_at)
        .map(|t| t.display_cst());
    let l = layout(&state, Some(&actor), "suggestions");
    Ok(page(
        l,
        "admin/suggestions.html",
        minijinja::context! { accuracy => acc, computed_at => computed_at },
    )?
    .into_response())
}

/// `POST /admin/suggestions`: measure again now.
pub async fn evaluate_suggestions(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Response, AppError> {
    blocking(&state, move |app| {
        crate::service::suggest::evaluate_as(app, &actor)
    })
    .await?;
    Ok(crate::http::see_other("/admin/suggestions").into_response())
}
