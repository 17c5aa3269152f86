//! The knowledge base over JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::extract::{ApiJson, Q};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::knowledge::{self, ArticleInput};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<SearchQuery>,
) -> Result<Json<Value>, AppError> {
    let items = blocking(&state, move |app| knowledge::search(app, &actor, &q.q)).await?;
    let total = items.len();
    Ok(Json(json!({"items": items, "total": total})))
}

pub async fn get_synonyms(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<crate::domain::knowledge::Synonyms>, AppError> {
    Ok(Json(
        blocking(&state, move |app| knowledge::synonyms(app, &actor)).await?,
    ))
}

pub async fn put_synonyms(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(s): ApiJson<crate::domain::knowledge::Synonyms>,
) -> Result<Json<crate::domain::knowledge::Synonyms>, AppError> {
    Ok(Json(
        blocking(&state, move |app| knowledge::save_synonyms(app, &actor, s)).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<ArticleInput>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let a = blocking(&state, move |app| knowledge::save(app, &actor, None, b)).await?;
    Ok((StatusCode::CREATED, Json(json!(a))))
}

pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = crate::http::extract::path_id(&id)?;
    let (a, versions) = blocking(&state, move |app| knowledge::get(app, &actor, id)).await?;
    Ok(Json(json!({"article": a, "versions": versions})))
}

pub async fn update(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ArticleInput>,
) -> Result<Json<Value>, AppError> {
    let id = crate::http::extract::path_id(&id)?;
    let a = blocking(&state, move |app| knowledge::save(app, &actor, Some(id), b)).await?;
    Ok(Json(json!(a)))
}
