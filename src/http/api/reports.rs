//! Reports over JSON, CSV and XLSX.

use axum::Json;
use axum::extract::State;
use axum::response::Response;

use crate::domain::assessment::Rules;
use crate::error::AppError;
use crate::http::export::{PeriodQuery, respond};
use crate::http::extract::{ApiJson, Q};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::reports::{bulletin, hot, operators, units};

pub async fn units(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let (format, period) = q.asked(state.app.now())?;
    let r = blocking(&state, move |app| units::assess(app, &actor, &period)).await?;
    respond(&r, format, || units::table(&r), "units", &r.period)
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

pub async fn get_stop_words(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<hot::StopWords>, AppError> {
    Ok(Json(
        blocking(&state, move |app| hot::stop_words(app, &actor)).await?,
    ))
}

pub async fn put_stop_words(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(words): ApiJson<hot::StopWords>,
) -> Result<Json<hot::StopWords>, AppError> {
    Ok(Json(
        blocking(&state, move |app| hot::save_stop_words(app, &actor, words)).await?,
    ))
}

pub async fn operators(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let (format, period) = q.asked(state.app.now())?;
    let r = blocking(&state, move |app| {
        operators::operators(app, &actor, &period)
    })
    .await?;
    respond(&r, format, || operators::table(&r), "operators", &r.period)
}

/// The summary (通报) of any period: JSON, CSV or XLSX.
pub async fn summary(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let (format, period) = q.asked(state.app.now())?;
    let b = blocking(&state, move |app| {
        bulletin::of_period(app, &actor, "custom", &period)
    })
    .await?;
    respond(&b, format, || bulletin::table(&b), "summary", &b.period)
}

/// Hot topics of a period against the one before it: JSON, CSV or XLSX.
pub async fn hot(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let (format, period) = q.asked(state.app.now())?;
    let h = blocking(&state, move |app| hot::hot(app, &actor, &period)).await?;
    respond(&h, format, || hot::table(&h), "hot", &h.period)
}
