//! Reports over JSON, CSV and XLSX.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::domain::assessment::Rules;
use crate::error::AppError;
use crate::http::export::{Format, PeriodQuery, download};
use crate::http::extract::{ApiJson, Q};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::reports::{Period, units};

pub async fn units(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let format = Format::parse(q.format.as_deref())?;
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), state.app.now())?;
    let report = blocking(&state, move |app| units::assess(app, &actor, &period)).await?;
    match format {
        Format::Json => Ok(Json(report).into_response()),
        f => download(&units::table(&report), f, "units", &report.period),
    }
}

pub async fn get_rules(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Rules>, AppError> {
    Ok(Json(
        blocking(&state, move |app| units::rules(app, &actor)).await?,
    ))
}

pub async fn put_rules(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(rules): ApiJson<Rules>,
) -> Result<Json<Rules>, AppError> {
    Ok(Json(
        blocking(&state, move |app| units::save_rules(app, &actor, rules)).await?,
    ))
}

pub async fn operators(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let format = Format::parse(q.format.as_deref())?;
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), state.app.now())?;
    let report = blocking(&state, move |app| {
        crate::service::reports::operators::operators(app, &actor, &period)
    })
    .await?;
    match format {
        Format::Json => Ok(Json(report).into_response()),
        f => download(
            &crate::service::reports::operators::table(&report),
            f,
            "operators",
            &report.period,
        ),
    }
}

/// The summary (通报) of any period: JSON, CSV or XLSX.
pub async fn summary(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    use crate::service::reports::bulletin;
    let format = Format::parse(q.format.as_deref())?;
    let now = state.app.now();
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), now)?;
    let b = blocking(&state, move |app| {
        actor.require(crate::domain::role::Permission::ReportsRead)?;
        app.store
            .read(|tx| bulletin::bulletin_in(tx, "custom", &period, now))
    })
    .await?;
    match format {
        Format::Json => Ok(Json(b).into_response()),
        f => download(&bulletin::table(&b), f, "summary", &b.period),
    }
}

/// Hot topics of a period against the one before it: JSON, CSV or XLSX.
pub async fn hot(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    use crate::service::reports::hot;
    let format = Format::parse(q.format.as_deref())?;
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), state.app.now())?;
    let h = blocking(&state, move |app| hot::hot(app, &actor, &period)).await?;
    match format {
        Format::Json => Ok(Json(h).into_response()),
        f => download(&hot::table(&h), f, "hot", &h.period),
    }
}
