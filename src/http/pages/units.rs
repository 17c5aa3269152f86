//! The admin's units page: the county's units (承办单位), added and edited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::Flash;
use crate::domain::unit::{League, UnitId};
use crate::error::AppError;
use crate::http::extract::{IdPath, PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::units::{NewUnit, UnitPatch};
use crate::service::{Actor, units};

#[derive(Serialize, Default)]
struct UnitForm {
    code: String,
    name: String,
    league: String,
}

async fn units_page(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    form: UnitForm,
    error: Option<(AppError, Option<u64>)>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let list = blocking(state, move |app| units::list(app, &a)).await?;
    let leagues: Vec<(&str, &str)> = League::ALL.iter().map(|l| (l.code(), l.label())).collect();
    let ctx = minijinja::context! {
        units => list,
        leagues => leagues,
        form => form,
        error_field => error.as_ref().and_then(|(e, _)| e.field()),
        error_unit => error.as_ref().and_then(|(_, u)| *u),
        error => error.as_ref().map(|(e, _)| e.to_string()),
    };
    let l = layout(state, Some(actor), "units").with_flash(flash);
    Ok((status, page(l, "admin/units.html", ctx)?).into_response())
}

pub async fn units(
    State(state): State<AppState>,
    actor: Actor,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    units_page(
        &state,
        &actor,
        flash.ok,
        StatusCode::OK,
        UnitForm::default(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct CreateUnitForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    league: String,
}

pub async fn create_unit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<CreateUnitForm>,
) -> Result<Response, AppError> {
    let kept = UnitForm {
        code: f.code.clone(),
        name: f.name.clone(),
        league: f.league.clone(),
    };
    let Some(league) = League::parse(&f.league) else {
        let e = AppError::invalid("league", "请选择单位类别");
        return units_page(
            &state,
            &actor,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            kept,
            Some((e, None)),
        )
        .await;
    };
    let new = NewUnit {
        code: f.code,
        name: f.name,
        league,
    };
    let a = actor.clone();
    match blocking(&state, move |app| units::create(app, &a, new)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/units?ok=unit_created").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            units_page(
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
pub struct UpdateUnitForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    league: String,
    /// `on` when the unit is to be disabled.
    #[serde(default)]
    disabled: Option<String>,
}

pub async fn update_unit(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    PageForm(f): PageForm<UpdateUnitForm>,
) -> Result<Response, AppError> {
    let league =
        League::parse(&f.league).ok_or_else(|| AppError::invalid("league", "请选择单位类别"))?;
    let patch = UnitPatch {
        name: Some(f.name),
        league: Some(league),
        disabled: Some(f.disabled.is_some()),
    };
    let a = actor.clone();
    match blocking(&state, move |app| units::update(app, &a, UnitId(id), patch)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/units?ok=unit_updated").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            units_page(
                &state,
                &actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                UnitForm::default(),
                Some((e, Some(id))),
            )
            .await
        }
        Err(e) => Err(e),
    }
}
