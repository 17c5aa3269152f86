//! The blacklist page (shift lead) and the printable harassment record of a number.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Flash;
use crate::domain::role::{Permission, allows};
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::{Actor, blacklist};

async fn list_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    error: Option<AppError>,
    form: Option<AddForm>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let items = blocking(state, move |app| blacklist::list(app, &a)).await?;
    let ctx = minijinja::context! {
        items => items,
        can_manage => allows(actor.role, Permission::BlacklistManage),
        error => error.as_ref().map(|e| e.to_string()),
        error_field => error.as_ref().and_then(|e| e.field()),
        form => form,
    };
    let l = layout(state, Some(actor), "blacklist").with_flash(flash);
    Ok((status, page(l, "blacklist/index.html", ctx)?).into_response())
}

pub async fn index(
    State(state): State<AppState>,
    actor: Actor,
    Q(f): Q<Flash>,
) -> Result<Response, AppError> {
    list_page(&state, &actor, f.ok, StatusCode::OK, None, None).await
}

#[derive(Deserialize, serde::Serialize, Clone)]
pub struct AddForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    review_date: String,
}

pub async fn add(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<AddForm>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let g = f.clone();
    match blocking(&state, move |app| {
        blacklist::add(app, &a, &g.phone, &g.reason, &g.review_date)
    })
    .await
    {
        Ok(_) => Ok(crate::http::see_other("/blacklist?ok=blacklisted").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            list_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                Some(f),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn lift(
    State(state): State<AppState>,
    actor: Actor,
    Path(phone): Path<String>,
) -> Result<Response, AppError> {
    blocking(&state, move |app| blacklist::lift(app, &actor, &phone)).await?;
    Ok(crate::http::see_other("/blacklist?ok=lifted").into_response())
}

pub async fn record(
    State(state): State<AppState>,
    actor: Actor,
    Path(phone): Path<String>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let rec = blocking(&state, move |app| blacklist::record(app, &a, &phone)).await?;
    let l = layout(&state, Some(&actor), "blacklist");
    Ok(page(l, "blacklist/record.html", rec)?.into_response())
}
