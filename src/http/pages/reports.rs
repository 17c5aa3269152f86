//! Report pages (报表): the unit assessment with its formulas, the orders behind each
//! figure, and the admin's assessment rules.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Flash;
use crate::domain::assessment::Rules;
use crate::domain::order::{OrderId, Satisfaction};
use crate::domain::role::{Permission, allows};
use crate::domain::unit::UnitId;
use crate::error::AppError;
use crate::http::export::{Format, PeriodQuery, download};
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::reports::{Period, shortcuts, units};

/// The period asked for, or this month with the reason the asked one was refused.
fn period_or_month(
    q: &PeriodQuery,
    now: crate::domain::time::Timestamp,
) -> Result<(Period, Option<AppError>), AppError> {
    match Period::parse(q.from.as_deref(), q.to.as_deref(), now) {
        Ok(p) => Ok((p, None)),
        Err(e) => Ok((Period::parse(None, None, now)?, Some(e))),
    }
}

/// The unit assessment for the period (default: this month); `format=csv|xlsx` downloads it.
pub async fn index(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let format = Format::parse(q.format.as_deref())?;
    let now = state.app.now();
    let period = match period_or_month(&q, now)? {
        (p, None) => p,
        (p, error) => return units_page(&state, &actor, p, error).await,
    };
    if format != Format::Json {
        let a = actor.clone();
        let report = blocking(&state, move |app| units::assess(app, &a, &period)).await?;
        return download(&units::table(&report), format, "units", &report.period);
    }
    units_page(&state, &actor, period, None).await
}

async fn units_page(
    state: &AppState,
    actor: &Actor,
    period: Period,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let report = blocking(state, move |app| units::assess(app, &a, &period)).await?;
    let leagues: Vec<_> = crate::domain::unit::League::ALL
        .iter()
        .map(|l| {
            let rows: Vec<&units::UnitRow> = report
                .items
                .iter()
                .filter(|u| u.unit.league == l.code())
                .collect();
            (l.label(), rows)
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
    let ctx = minijinja::context! {
        report => report,
        leagues => leagues,
        shortcuts => shortcuts(state.app.now()),
        satisfaction => Satisfaction::ALL.iter().map(|s| (s.code(), s.label())).collect::<Vec<_>>(),
        can_manage => allows(actor.role, Permission::AssessmentManage),
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(state, Some(actor), "reports");
    Ok((status, page(l, "reports/units.html", ctx)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FigureQuery {
    #[serde(default)]
    figure: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// The orders behind one figure of one unit (the newest 200).
pub async fn figure(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Q(q): Q<FigureQuery>,
) -> Result<Response, AppError> {
    let unit = id
        .parse::<u64>()
        .map(UnitId)
        .map_err(|_| AppError::NotFound)?;
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), state.app.now())?;
    let figure = q.figure.clone();
    let a = actor.clone();
    let p = period.clone();
    let (name, rows) = blocking(&state, move |app| {
        let (name, ids) = units::figure_orders(app, &a, unit, &figure, &p, 200)?;
        Ok((name, crate::service::orders::views_of(app, &a, &ids)?))
    })
    .await?;
    let label = units::FIGURES
        .iter()
        .find(|(c, _)| *c == q.figure)
        .map(|(_, l)| *l)
        .unwrap_or_default();
    let ctx = minijinja::context! {
        unit_id => unit.0, unit_name => name, figure => q.figure, label => label,
        period => period, rows => rows,
    };
    let l = layout(&state, Some(&actor), "reports");
    Ok(page(l, "reports/figure.html", ctx)?.into_response())
}

/// The admin's assessment rules.
pub async fn rules_form(
    State(state): State<AppState>,
    actor: Actor,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let rules = blocking(&state, move |app| units::rules(app, &a)).await?;
    rules_page(&state, &actor, rules, flash.ok, None).await
}

async fn rules_page(
    state: &AppState,
    actor: &Actor,
    rules: Rules,
    flash: Option<String>,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let ctx = minijinja::context! {
        rules => rules,
        satisfaction => Satisfaction::ALL.iter().filter(|s| **s != Satisfaction::Unreachable).map(|s| (s.code(), s.label())).collect::<Vec<_>>(),
        error => error.as_ref().map(|e| e.to_string()),
        error_field => error.as_ref().and_then(|e| e.field()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(state, Some(actor), "assessment").with_flash(flash);
    Ok((status, page(l, "admin/assessment.html", ctx)?).into_response())
}

pub async fn save_rules(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let num = |k: &str| -> Result<u32, AppError> {
        let v = form.get(k).map(|s| s.trim()).unwrap_or("");
        v.parse::<u32>()
            .ok()
            .filter(|n| *n <= 1000)
            .ok_or_else(|| AppError::invalid("weights", "权重、样本量和分数线须为 0–1000 的整数"))
    };
    let parsed = (|| -> Result<Rules, AppError> {
        let mut r = Rules::default();
        let w = &mut r.weights;
        w.signed_on_time = num("w_signed_on_time")?;
        w.finished_on_time = num("w_finished_on_time")?;
        w.satisfaction = num("w_satisfaction")?;
        w.resolved = num("w_resolved")?;
        w.returns = num("w_returns")?;
        w.extensions = num("w_extensions")?;
        w.reopens = num("w_reopens")?;
        r.min_sample = num("min_sample")?;
        r.grade_floors = [num("grade_a")?, num("grade_b")?, num("grade_c")?];
        r.satisfied = Satisfaction::ALL
            .iter()
            .copied()
            .filter(|s| form.contains_key(&format!("sat_{}", s.code())))
            .collect();
        r.unreachable_counts = form.contains_key("unreachable_counts");
        Ok(r)
    })();
    let rules = match parsed {
        Ok(r) => r,
        Err(e) => return rules_page(&state, &actor, Rules::default(), None, Some(e)).await,
    };
    let a = actor.clone();
    let typed = rules.clone();
    match blocking(&state, move |app| units::save_rules(app, &a, rules)).await {
        Ok(_) => {
            Ok(crate::http::see_other("/admin/assessment?ok=assessment_saved").into_response())
        }
        Err(e @ AppError::Invalid { .. }) => rules_page(&state, &actor, typed, None, Some(e)).await,
        Err(e) => Err(e),
    }
}

/// The county's stop words for the hot words (admin): one textarea.
pub async fn stop_words_form(
    State(state): State<AppState>,
    actor: Actor,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    use crate::service::reports::hot;
    let a = actor.clone();
    let words = blocking(&state, move |app| hot::stop_words(app, &a)).await?;
    stop_words_page(&state, &actor, words.words.join("\n"), flash.ok, None).await
}

async fn stop_words_page(
    state: &AppState,
    actor: &Actor,
    text: String,
    flash: Option<String>,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let ctx = minijinja::context! {
        text => text,
        max => crate::service::reports::hot::MAX_STOP_WORDS,
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(state, Some(actor), "stopwords").with_flash(flash);
    Ok((status, page(l, "admin/stopwords.html", ctx)?).into_response())
}

pub async fn save_stop_words(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    use crate::service::reports::hot;
    let text = form.get("words").cloned().unwrap_or_default();
    let words = match hot::StopWords::parse(&text) {
        Ok(w) => w,
        Err(e) => return stop_words_page(&state, &actor, text, None, Some(e)).await,
    };
    let a = actor.clone();
    match blocking(&state, move |app| hot::save_stop_words(app, &a, words)).await {
        Ok(_) => Ok(crate::http::see_other("/admin/stopwords?ok=stop_words_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            stop_words_page(&state, &actor, text, None, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AppealsQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

/// 考核申诉: a unit's own appeals, or the supervisor's queue by state.
pub async fn appeals_index(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<AppealsQuery>,
) -> Result<Response, AppError> {
    appeals_page(&state, &actor, q.state, q.ok, None).await
}

async fn appeals_page(
    state: &AppState,
    actor: &Actor,
    which: Option<String>,
    flash: Option<String>,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let w = which.clone();
    let (items, total) = blocking(state, move |app| {
        crate::service::appeals::list(app, &a, w.as_deref())
    })
    .await?;
    let ctx = minijinja::context! {
        items => items, total => total,
        state => which.unwrap_or_else(|| "pending".into()),
        can_decide => allows(actor.role, Permission::AppealsDecide),
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(state, Some(actor), "appeals").with_flash(flash);
    Ok((status, page(l, "reports/appeals.html", ctx)?).into_response())
}

/// A unit files an appeal from the order page.
pub async fn file_appeal(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let body = crate::service::appeals::NewAppeal {
        figure: form.get("figure").cloned().unwrap_or_default(),
        reason: form.get("reason").cloned().unwrap_or_default(),
        attachments: form
            .iter()
            .filter(|(k, _)| k.starts_with("att_"))
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let a = actor.clone();
    match blocking(&state, move |app| {
        crate::service::appeals::file(app, &a, id, body)
    })
    .await
    {
        Ok(_) => Ok(
            crate::http::see_other(&format!("/orders/{}?ok=appeal_filed", id.0)).into_response(),
        ),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            super::orders::detail_page(&state, &actor, id, None, Some(("appeal".into(), e)), None)
                .await
        }
        Err(e) => Err(e),
    }
}

/// The supervisor upholds or rejects an appeal.
pub async fn decide_appeal(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let id = crate::http::extract::path_id(&id)?;
    let d = crate::service::appeals::Decision {
        uphold: form.get("uphold").map(String::as_str) == Some("1"),
        note: form.get("note").cloned(),
    };
    let a = actor.clone();
    match blocking(&state, move |app| {
        crate::service::appeals::decide(app, &a, id, d)
    })
    .await
    {
        Ok(_) => Ok(crate::http::see_other("/appeals?ok=appeal_decided").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            appeals_page(&state, &actor, None, None, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

/// Operator figures for the period; `format=csv|xlsx` downloads them.
pub async fn operators(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    let format = Format::parse(q.format.as_deref())?;
    let now = state.app.now();
    let (period, error) = period_or_month(&q, now)?;
    let a = actor.clone();
    let report = blocking(&state, move |app| {
        crate::service::reports::operators::operators(app, &a, &period)
    })
    .await?;
    if format != Format::Json && error.is_none() {
        return download(
            &crate::service::reports::operators::table(&report),
            format,
            "operators",
            &report.period,
        );
    }
    let ctx = minijinja::context! {
        report => report, shortcuts => shortcuts(now),
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(&state, Some(&actor), "reports");
    Ok((status, page(l, "reports/operators.html", ctx)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BulletinQuery {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// The daily, weekly or monthly bulletin (通报), printable on A4; `format=csv|xlsx`.
pub async fn bulletin(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<BulletinQuery>,
) -> Result<Response, AppError> {
    use crate::service::reports::bulletin;
    let format = Format::parse(q.format.as_deref())?;
    let kind = q.kind.clone().unwrap_or_else(|| "monthly".into());
    let date = q.date.clone();
    let a = actor.clone();
    let result = blocking(&state, move |app| {
        bulletin::bulletin(app, &a, &kind, date.as_deref())
    })
    .await;
    let (b, error) = match result {
        Ok(b) => (b, None),
        Err(e @ AppError::Invalid { .. }) => {
            let a = actor.clone();
            let b = blocking(&state, move |app| {
                bulletin::bulletin(app, &a, "monthly", None)
            })
            .await?;
            (b, Some(e))
        }
        Err(e) => return Err(e),
    };
    if format != Format::Json && error.is_none() {
        return download(&bulletin::table(&b), format, b.kind, &b.period);
    }
    let ctx = minijinja::context! {
        b => b, date => q.date, error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(&state, Some(&actor), "reports");
    Ok((status, page(l, "reports/bulletin.html", ctx)?).into_response())
}

/// The supervisor marks an order as a typical case for the bulletin.
pub async fn mark_case(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let note = form.get("note").cloned().unwrap_or_default();
    let a = actor.clone();
    match blocking(&state, move |app| {
        crate::service::reports::cases::mark(app, &a, id, &note)
    })
    .await
    {
        Ok(()) => {
            Ok(crate::http::see_other(&format!("/orders/{}?ok=case_marked", id.0)).into_response())
        }
        Err(e @ AppError::Invalid { .. }) => {
            super::orders::detail_page(&state, &actor, id, None, Some(("typical".into(), e)), None)
                .await
        }
        Err(e) => Err(e),
    }
}

/// Hot topics: categories and towns rising against the period before.
pub async fn hot(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<PeriodQuery>,
) -> Result<Response, AppError> {
    use crate::service::reports::hot;
    let format = Format::parse(q.format.as_deref())?;
    let now = state.app.now();
    let (period, error) = period_or_month(&q, now)?;
    let a = actor.clone();
    let h = blocking(&state, move |app| hot::hot(app, &a, &period)).await?;
    if format != Format::Json && error.is_none() {
        return download(&hot::table(&h), format, "hot", &h.period);
    }
    let bars = |list: &[hot::Topic]| {
        let rows: Vec<(String, u64)> = list
            .iter()
            .take(12)
            .map(|t| (t.name.clone(), t.count))
            .collect();
        crate::service::reports::chart::hbars("本期件数", &rows)
    };
    let word_rows: Vec<(String, u64)> = h
        .words
        .iter()
        .take(12)
        .map(|w| (w.word.clone(), w.count))
        .collect();
    let words_chart = crate::service::reports::chart::hbars("本期件数", &word_rows);
    let ctx = minijinja::context! {
        h => h, shortcuts => shortcuts(now),
        categories_chart => bars(&h.categories), towns_chart => bars(&h.towns),
        words_chart => words_chart,
        can_manage => allows(actor.role, Permission::AssessmentManage),
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(&state, Some(&actor), "reports");
    Ok((status, page(l, "reports/hot.html", ctx)?).into_response())
}
