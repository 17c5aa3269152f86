//! Admin pages for the work calendar (a year view; a click toggles 休/班) and time limits.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::{Date, Month, Weekday};

use crate::domain::blacklist::HarassPolicy;
use crate::domain::calendar::{Calendar, Span};
use crate::domain::limits::Limits;
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::{Actor, rules};

#[derive(Deserialize, Default)]
pub struct YearQuery {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    ok: Option<String>,
}

#[derive(Serialize)]
struct Cell {
    date: String,
    day: u8,
    working: bool,
    /// Differs from the plain Monday–Friday week (a holiday or a make-up day).
    special: bool,
}

#[derive(Serialize)]
struct MonthView {
    month: u8,
    /// Leading blanks so the first day falls under its weekday (Monday first).
    offset: u8,
    days: Vec<Cell>,
}

fn months(cal: &Calendar, year: i32) -> Vec<MonthView> {
    (1..=12u8)
        .filter_map(|m| {
            let month = Month::try_from(m).ok()?;
            let first = Date::from_calendar_date(year, month, 1).ok()?;
            let mut days = Vec::new();
            let mut d = first;
            while d.month() == month {
                let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
                let working = cal.is_working_day(d);
                days.push(Cell {
                    date: format!("{year:04}-{m:02}-{:02}", d.day()),
                    day: d.day(),
                    working,
                    special: working == weekend,
                });
                d = d.next_day()?;
            }
            Some(MonthView {
                month: m,
                offset: first.weekday().number_days_from_monday(),
                days,
            })
        })
        .collect()
}

pub async fn calendar(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<YearQuery>,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let now_year: i32 = state.app.now().to_cst().map(|t| t.year()).unwrap_or(2026);
    let year = q.year.unwrap_or(now_year).clamp(2000, 2100);
    let (cal, warning) = blocking(&state, |app| {
        Ok((rules::calendar(app)?, rules::calendar_warning(app)?))
    })
    .await?;
    let ctx = minijinja::context! {
        year => year,
        entered => cal.has_year(year),
        months => months(&cal, year),
        warning => warning,
    };
    let l = layout(&state, Some(&actor), "calendar").with_flash(q.ok);
    Ok(page(l, "admin/calendar.html", ctx)?.into_response())
}

#[derive(Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    date: String,
}

pub async fn toggle(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<ToggleForm>,
) -> Result<Response, AppError> {
    let date = f.date.clone();
    blocking(&state, move |app| rules::toggle_day(app, &actor, &date)).await?;
    let year = f.date.get(..4).unwrap_or("");
    Ok(crate::http::see_other(&format!(
        "/admin/calendar?year={year}&ok=calendar_saved#d{}",
        f.date
    ))
    .into_response())
}

/// The limits form: minutes for calendar-time limits, working days for the rest.
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct LimitsForm {
    #[serde(default)]
    sign_critical_min: String,
    #[serde(default)]
    sign_urgent_min: String,
    #[serde(default)]
    sign_normal_days: String,
    #[serde(default)]
    handle_critical_hours: String,
    #[serde(default)]
    handle_urgent_days: String,
    #[serde(default)]
    handle_inquiry_days: String,
    #[serde(default)]
    handle_help_days: String,
    #[serde(default)]
    handle_complaint_days: String,
    #[serde(default)]
    handle_report_days: String,
    #[serde(default)]
    handle_suggestion_days: String,
    #[serde(default)]
    handle_praise_days: String,
    #[serde(default)]
    handle_npc_days: String,
    #[serde(default)]
    max_extension_days: String,
    #[serde(default)]
    max_extensions_per_round: String,
    #[serde(default)]
    return_window_days: String,
    #[serde(default)]
    callback_days: String,
    #[serde(default)]
    harass_count: String,
    #[serde(default)]
    harass_days: String,
}

fn span_text(s: Span, minutes_per: i64) -> String {
    match s {
        Span::Minutes(m) => (m / minutes_per).to_string(),
        Span::WorkingDays(d) => d.to_string(),
    }
}

fn to_form(l: &Limits, p: &HarassPolicy) -> LimitsForm {
    LimitsForm {
        sign_critical_min: span_text(l.sign_critical, 1),
        sign_urgent_min: span_text(l.sign_urgent, 1),
        sign_normal_days: span_text(l.sign_normal, 1),
        handle_critical_hours: span_text(l.handle_critical, 60),
        handle_urgent_days: span_text(l.handle_urgent, 1),
        handle_inquiry_days: span_text(l.handle_inquiry, 1),
        handle_help_days: span_text(l.handle_help, 1),
        handle_complaint_days: span_text(l.handle_complaint, 1),
        handle_report_days: span_text(l.handle_report, 1),
        handle_suggestion_days: span_text(l.handle_suggestion, 1),
        handle_praise_days: span_text(l.handle_praise, 1),
        handle_npc_days: span_text(l.handle_npc, 1),
        max_extension_days: l.max_extension_days.to_string(),
        max_extensions_per_round: l.max_extensions_per_round.to_string(),
        return_window_days: l.return_window_days.to_string(),
        callback_days: l.callback_days.to_string(),
        harass_count: p.count.to_string(),
        harass_days: p.days.to_string(),
    }
}

fn num<T: std::str::FromStr>(field: &'static str, v: &str) -> Result<T, AppError> {
    v.trim()
        .parse()
        .map_err(|_| AppError::invalid(field, "请填写整数"))
}

fn from_form(f: &LimitsForm) -> Result<(Limits, HarassPolicy), AppError> {
    let days = |field: &'static str, v: &str| num::<u32>(field, v).map(Span::WorkingDays);
    Ok((
        Limits {
            sign_critical: Span::Minutes(num("sign_critical_min", &f.sign_critical_min)?),
            sign_urgent: Span::Minutes(num("sign_urgent_min", &f.sign_urgent_min)?),
            sign_normal: days("sign_normal_days", &f.sign_normal_days)?,
            handle_critical: Span::Minutes(
                num::<i64>("handle_critical_hours", &f.handle_critical_hours)? * 60,
            ),
            handle_urgent: days("handle_urgent_days", &f.handle_urgent_days)?,
            handle_inquiry: days("handle_inquiry_days", &f.handle_inquiry_days)?,
            handle_help: days("handle_help_days", &f.handle_help_days)?,
            handle_complaint: days("handle_complaint_days", &f.handle_complaint_days)?,
            handle_report: days("handle_report_days", &f.handle_report_days)?,
            handle_suggestion: days("handle_suggestion_days", &f.handle_suggestion_days)?,
            handle_praise: days("handle_praise_days", &f.handle_praise_days)?,
            handle_npc: days("handle_npc_days", &f.handle_npc_days)?,
            max_extension_days: num("max_extension_days", &f.max_extension_days)?,
            max_extensions_per_round: num("max_extensions_per_round", &f.max_extensions_per_round)?,
            return_window_days: num("return_window_days", &f.return_window_days)?,
            callback_days: num("callback_days", &f.callback_days)?,
        },
        HarassPolicy {
            count: num("harass_count", &f.harass_count)?,
            days: num("harass_days", &f.harass_days)?,
        },
    ))
}

async fn limits_page(
    state: &AppState,
    actor: &Actor,
    form: LimitsForm,
    status: StatusCode,
    error: Option<AppError>,
    flash: Option<String>,
) -> Result<Response, AppError> {
    // The table of the limits in force (kind × urgency × line).
    let saved = blocking(state, rules::limits).await?;
    let columns: Vec<(&str, &str)> = crate::domain::limits::Limits::columns()
        .into_iter()
        .map(|(u, l)| (l.label(), u.label()))
        .collect();
    let ctx = minijinja::context! {
        f => form,
        matrix => saved.matrix(),
        columns => columns,
        lines => crate::domain::order::Line::ALL.iter().map(|l| l.label()).collect::<Vec<_>>(),
        urgencies => crate::domain::order::Urgency::ALL.len(),
        error => error.as_ref().map(|e| e.to_string()),
        error_field => error.as_ref().and_then(|e| e.field()),
    };
    let l = layout(state, Some(actor), "limits").with_flash(flash);
    Ok((status, page(l, "admin/limits.html", ctx)?).into_response())
}

pub async fn limits(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<YearQuery>,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let (l, p) = blocking(&state, |app| {
        Ok((rules::limits(app)?, rules::harass_policy(app)?))
    })
    .await?;
    limits_page(&state, &actor, to_form(&l, &p), StatusCode::OK, None, q.ok).await
}

pub async fn save_limits(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<LimitsForm>,
) -> Result<Response, AppError> {
    let parsed = from_form(&f);
    let a = actor.clone();
    let result = match parsed {
        Ok((l, p)) => blocking(&state, move |app| rules::put_limits(app, &a, l, Some(p)))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(crate::http::see_other("/admin/limits?ok=limits_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            limits_page(
                &state,
                &actor,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// JSON: `{limits, harass_policy}`.
pub async fn api_get_limits(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let (l, p) = blocking(&state, |app| {
        Ok((rules::limits(app)?, rules::harass_policy(app)?))
    })
    .await?;
    Ok(axum::Json(
        serde_json::json!({"limits": l, "harass_policy": p}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    limits: Limits,
    #[serde(default)]
    harass_policy: Option<HarassPolicy>,
}

pub async fn api_put_limits(
    State(state): State<AppState>,
    actor: Actor,
    crate::http::extract::ApiJson(b): crate::http::extract::ApiJson<LimitsBody>,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    let l = blocking(&state, move |app| {
        rules::put_limits(app, &actor, b.limits, b.harass_policy)
    })
    .await?;
    Ok(axum::Json(serde_json::json!({"limits": l})))
}

pub async fn api_get_calendar(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let (cal, warning) = blocking(&state, |app| {
        Ok((rules::calendar(app)?, rules::calendar_warning(app)?))
    })
    .await?;
    let years: BTreeMap<String, _> = cal.years.iter().map(|(y, c)| (y.to_string(), c)).collect();
    Ok(axum::Json(
        serde_json::json!({"years": years, "hours": cal.hours, "missing_year": warning}),
    ))
}

pub async fn api_put_year(
    State(state): State<AppState>,
    actor: Actor,
    axum::extract::Path(year): axum::extract::Path<String>,
    crate::http::extract::ApiJson(b): crate::http::extract::ApiJson<rules::YearInput>,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    let year: i32 = year.parse().map_err(|_| AppError::NotFound)?;
    let y = blocking(&state, move |app| rules::put_year(app, &actor, year, b)).await?;
    Ok(axum::Json(serde_json::json!(y)))
}

// ---- screening words and scripts ----

use crate::service::screening_settings::{self, Screening};

async fn screening_page(
    state: &AppState,
    actor: &Actor,
    s: Screening,
    status: StatusCode,
    error: Option<AppError>,
    flash: Option<String>,
) -> Result<Response, AppError> {
    let words: Vec<String> = s
        .emergency_words
        .iter()
        .map(|w| format!("{} {}", w.word, w.number))
        .collect();
    let scripts: Vec<serde_json::Value> = crate::domain::exclusion::EXCLUSIONS
        .iter()
        .map(|e| serde_json::json!({"code": e.code, "label": e.label, "script": s.exclusion_scripts.get(&e.code.to_string()).cloned().unwrap_or_default()}))
        .collect();
    let ctx = minijinja::context! { words => words.join("\n"), scripts => scripts, error => error.as_ref().map(|e| e.to_string()) };
    let l = layout(state, Some(actor), "screening").with_flash(flash);
    Ok((status, page(l, "admin/screening.html", ctx)?).into_response())
}

pub async fn screening(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<YearQuery>,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    let s = blocking(&state, screening_settings::get).await?;
    screening_page(&state, &actor, s, StatusCode::OK, None, q.ok).await
}

fn parse_screening(form: &BTreeMap<String, String>) -> Screening {
    let emergency_words = form
        .get("words")
        .map(String::as_str)
        .unwrap_or("")
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let word = it.next()?.to_string();
            let number = it.next().unwrap_or("").to_string();
            Some(crate::domain::intake::EmergencyWord { word, number })
        })
        .collect();
    let exclusion_scripts = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("script_")
                .map(|c| (c.to_string(), v.clone()))
        })
        .collect();
    Screening {
        emergency_words,
        exclusion_scripts,
    }
}

pub async fn save_screening(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let s = parse_screening(&form);
    let a = actor.clone();
    let kept = s.clone();
    match blocking(&state, move |app| screening_settings::save(app, &a, s)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/screening?ok=settings_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            screening_page(
                &state,
                &actor,
                kept,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn api_get_screening(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Screening>, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    Ok(axum::Json(blocking(&state, screening_settings::get).await?))
}

pub async fn api_put_screening(
    State(state): State<AppState>,
    actor: Actor,
    crate::http::extract::ApiJson(b): crate::http::extract::ApiJson<Screening>,
) -> Result<axum::Json<Screening>, AppError> {
    Ok(axum::Json(
        blocking(&state, move |app| screening_settings::save(app, &actor, b)).await?,
    ))
}

// ---- categories ----

async fn categories_page(
    state: &AppState,
    actor: &Actor,
    status: StatusCode,
    error: Option<AppError>,
    flash: Option<String>,
) -> Result<Response, AppError> {
    let cats = blocking(state, crate::service::orders::categories).await?;
    let rows: Vec<serde_json::Value> = cats
        .items
        .iter()
        .map(|c| serde_json::json!({"code": c.code, "name": c.name, "parent": c.parent, "path": cats.path(&c.code)}))
        .collect();
    let ctx = minijinja::context! { rows => rows, error => error.as_ref().map(|e| e.to_string()), error_field => error.as_ref().and_then(|e| e.field()) };
    let l = layout(state, Some(actor), "categories").with_flash(flash);
    Ok((status, page(l, "admin/categories.html", ctx)?).into_response())
}

pub async fn categories(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<YearQuery>,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::SettingsManage)?;
    categories_page(&state, &actor, StatusCode::OK, None, q.ok).await
}

pub async fn save_category(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(c): PageForm<crate::domain::category::Category>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    match blocking(&state, move |app| {
        screening_settings::put_category(app, &a, c)
    })
    .await
    {
        Ok(_) => Ok(crate::http::see_other("/admin/categories?ok=settings_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            categories_page(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn api_put_category(
    State(state): State<AppState>,
    actor: Actor,
    crate::http::extract::ApiJson(c): crate::http::extract::ApiJson<
        crate::domain::category::Category,
    >,
) -> Result<axum::Json<crate::domain::category::Categories>, AppError> {
    Ok(axum::Json(
        blocking(&state, move |app| {
            screening_settings::put_category(app, &actor, c)
        })
        .await?,
    ))
}
