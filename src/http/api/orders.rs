//! Orders over JSON: intake, read, list, actions, hints, reveal, who-viewed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::order::{Address, OrderId};
use crate::domain::order_state::Action;
use crate::error::AppError;
use crate::http::extract::{ApiJson, Q};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::orders::{self, ListFilter, NewOrder, view::View};

pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<NewOrder>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let r = blocking(&state, move |app| orders::intake(app, &actor, body)).await?;
    let status = if r.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "id": r.order.id.0,
            "number": r.order.number,
            "state": r.order.state,
            "query_code": r.order.query_code,
            "warnings": r.warnings,
        })),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<View>, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    Ok(Json(
        blocking(&state, move |app| orders::get_view(app, &actor, id)).await?,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Q(filter): Q<ListFilter>,
) -> Result<Json<Value>, AppError> {
    let p = blocking(&state, move |app| orders::list_views(app, &actor, &filter)).await?;
    let mut v = json!({"items": p.items, "total": p.total, "page": p.page, "per_page": p.per_page});
    if let Some(n) = p.search_behind {
        v["search_behind"] = json!(n);
    }
    Ok(Json(v))
}

pub async fn act(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, action)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<View>, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let action = Action::parse(&action).ok_or(AppError::NotFound)?;
    if !body.is_object() {
        return Err(AppError::BadRequest("请求体应为 JSON 对象".into()));
    }
    let view = blocking(&state, move |app| {
        orders::actions::act(app, &actor, id, action, body)?;
        orders::get_view(app, &actor, id)
    })
    .await?;
    Ok(Json(view))
}

#[derive(Deserialize)]
pub struct HintQuery {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    content: String,
    #[serde(default)]
    town: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    /// The kind, urgency and line chosen so far: the deadlines a dispatch now would give.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    line: Option<String>,
}

/// A code of the form (`complaint`, `urgent`, …) as its type; none for empty or unknown.
fn code<T: serde::de::DeserializeOwned>(s: &Option<String>) -> Option<T> {
    serde_json::from_value(Value::String(s.clone()?)).ok()
}

pub async fn hints(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<HintQuery>,
) -> Result<Json<Value>, AppError> {
    let v = blocking(&state, move |app| {
        let addr = Address {
            town: q.town.filter(|s| !s.trim().is_empty()),
            village: None,
            detail: q.detail.filter(|s| !s.trim().is_empty()),
        };
        let terms = code(&q.kind).map(|k| {
            (
                k,
                code(&q.urgency).unwrap_or(crate::domain::order::Urgency::Normal),
                code(&q.line).unwrap_or(crate::domain::order::Line::General),
            )
        });
        orders::live_hints(app, &actor, q.phone.as_deref(), &q.content, &addr, terms)
    })
    .await?;
    Ok(Json(v))
}

#[derive(Deserialize)]
pub struct RevealBody {
    reason: String,
}

pub async fn reveal(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevealBody>,
) -> Result<Json<Value>, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    Ok(Json(
        blocking(&state, move |app| {
            orders::reveal(app, &actor, id, &body.reason)
        })
        .await?,
    ))
}

pub async fn views(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let items = blocking(&state, move |app| orders::views(app, &actor, id)).await?;
    let total = items.len();
    Ok(Json(json!({"items": items, "total": total})))
}

pub async fn categories(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let cats = blocking(&state, orders::categories).await?;
    let total = cats.items.len();
    Ok(Json(json!({"items": cats.items, "total": total})))
}

#[derive(Deserialize)]
pub struct NoteBody {
    #[serde(default)]
    note: String,
}

pub async fn repeat_call(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<Json<View>, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let view = blocking(&state, move |app| {
        orders::repeat_call(app, &actor, id, &body.note)?;
        orders::get_view(app, &actor, id)
    })
    .await?;
    Ok(Json(view))
}

pub async fn urge_unit(
    State(state): State<AppState>,
    actor: Actor,
    Path(unit): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<Json<Value>, AppError> {
    let n = blocking(&state, move |app| {
        orders::urge_unit_overdue(app, &actor, &unit, &body.note)
    })
    .await?;
    Ok(Json(json!({"urged": n})))
}

/// The actor's work counters for the top bar (polled).
pub async fn counters(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Value>, AppError> {
    let items = blocking(&state, move |app| {
        crate::service::orders::queues::counters(app, &actor)
    })
    .await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
pub struct CheckQuery {
    field: String,
    #[serde(default)]
    value: String,
}

/// `GET /api/v1/intake/check?field=caller_phone&value=…`: one caller field checked on blur.
pub async fn check(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<CheckQuery>,
) -> Result<Json<Value>, AppError> {
    if q.value.len() > 64 {
        return Err(AppError::invalid("value", "内容过长"));
    }
    let v = blocking(&state, move |app| {
        orders::check_field(app, &actor, &q.field, &q.value)
    })
    .await?;
    Ok(Json(v))
}

/// `GET /api/v1/lookup/{query_code}`: where an order stands, by the code told to the caller.
pub async fn lookup(
    State(state): State<AppState>,
    actor: Actor,
    Path(code): Path<String>,
) -> Result<Json<orders::platform::Lookup>, AppError> {
    Ok(Json(
        blocking(&state, move |app| {
            orders::platform::lookup(app, &actor, &code)
        })
        .await?,
    ))
}
