//! Users, units, settings and the audit log over JSON (admin).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::List;
use crate::domain::settings::Settings;
use crate::domain::unit::{Unit, UnitId};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::http::extract::{ApiJson, IdPath, Q};
use crate::http::{AppState, blocking, hashing};
use crate::service::units::{NewUnit, UnitPatch};
use crate::service::users::{NewUser, UserPatch, UserView};
use crate::service::{Actor, audit, settings, units, users};

pub async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<List<UserView>>, AppError> {
    let list = blocking(&state, move |app| users::list(app, &actor)).await?;
    Ok(Json(List::of(list.iter().map(UserView::from).collect())))
}

pub async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserView>), AppError> {
    let u = hashing(&state, move |app| users::create(app, &actor, body)).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&u))))
}

pub async fn get_user(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> Result<Json<UserView>, AppError> {
    let u = blocking(&state, move |app| users::get(app, &actor, UserId(id))).await?;
    Ok(Json(UserView::from(&u)))
}

pub async fn update_user(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UserPatch>,
) -> Result<Json<UserView>, AppError> {
    let u = hashing(&state, move |app| {
        users::update(app, &actor, UserId(id), body)
    })
    .await?;
    Ok(Json(UserView::from(&u)))
}

pub async fn list_units(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<List<Unit>>, AppError> {
    let list = blocking(&state, move |app| units::list(app, &actor)).await?;
    Ok(Json(List::of(list)))
}

pub async fn create_unit(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<NewUnit>,
) -> Result<(StatusCode, Json<Unit>), AppError> {
    let u = blocking(&state, move |app| units::create(app, &actor, body)).await?;
    Ok((StatusCode::CREATED, Json(u)))
}

pub async fn update_unit(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UnitPatch>,
) -> Result<Json<Unit>, AppError> {
    let u = blocking(&state, move |app| {
        units::update(app, &actor, UnitId(id), body)
    })
    .await?;
    Ok(Json(u))
}

#[derive(Serialize)]
pub struct AuditList {
    items: Vec<audit::AuditLine>,
    total: usize,
    page: u32,
    has_more: bool,
}

pub async fn list_audit(
    State(state): State<AppState>,
    actor: Actor,
    Q(filter): Q<audit::AuditFilter>,
) -> Result<Json<AuditList>, AppError> {
    let page = blocking(&state, move |app| audit::list(app, &actor, &filter)).await?;
    Ok(Json(AuditList {
        total: page.items.len(),
        items: page.items,
        page: page.page,
        has_more: page.has_more,
    }))
}

pub async fn get_settings(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Settings>, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    Ok(Json(state.app.settings()))
}

pub async fn put_settings(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<Settings>,
) -> Result<Json<Settings>, AppError> {
    let s = blocking(&state, move |app| settings::update(app, &actor, body)).await?;
    Ok(Json(s))
}

pub async fn issue_token(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<crate::service::tokens::NewToken>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let issued = blocking(&state, move |app| {
        crate::service::tokens::issue(app, &actor, &b)
    })
    .await?;
    let mut v = serde_json::json!({"token": issued.token, "item": issued.view});
    if let Some(s) = issued.callback_secret {
        v["callback_secret"] = serde_json::json!(s);
    }
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    callback_url: Option<String>,
}

/// `PATCH /api/v1/admin/tokens/{id}` `{callback_url}`: where a platform takes results back.
pub async fn update_token(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<CallbackBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (view, secret) = blocking(&state, move |app| {
        crate::service::tokens::set_callback(app, &actor, id, b.callback_url.as_deref())
    })
    .await?;
    let mut v = serde_json::json!({"item": view});
    if let Some(s) = secret {
        v["callback_secret"] = serde_json::json!(s);
    }
    Ok(Json(v))
}

pub async fn list_tokens(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<List<crate::service::tokens::TokenView>>, AppError> {
    let items = blocking(&state, move |app| crate::service::tokens::list(app, &actor)).await?;
    Ok(Json(List::of(items)))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> Result<Json<crate::service::tokens::TokenView>, AppError> {
    Ok(Json(
        blocking(&state, move |app| {
            crate::service::tokens::revoke(app, &actor, id)
        })
        .await?,
    ))
}

/// `GET /api/v1/admin/outbox`: deliveries back to platforms, pending and failed.
pub async fn outbox(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<crate::service::outbox::OutboxPage>, AppError> {
    Ok(Json(
        blocking(&state, move |app| {
            crate::service::outbox::overview(app, &actor)
        })
        .await?,
    ))
}

/// `POST /api/v1/admin/outbox/{id}/retry`: send a delivery again now.
pub async fn retry_delivery(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> Result<Json<crate::service::outbox::DeliveryView>, AppError> {
    Ok(Json(
        blocking(&state, move |app| {
            crate::service::outbox::retry(app, &actor, id)
        })
        .await?,
    ))
}
