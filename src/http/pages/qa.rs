//! QA inspection pages (质检): the day's sample and the scoring form for QA, the operator's
//! own scores with 申诉, the shift lead's appeal decisions, the admin's rubric.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::order::OrderId;
use crate::domain::qa::RubricItem;
use crate::domain::role::{Permission, Role, allows};
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking, see_other};
use crate::service::Actor;
use crate::service::qa::{self, NewInspection, RulesChange};
use crate::service::reports::Period;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeskQuery {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

pub async fn desk(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<DeskQuery>,
) -> Result<Response, AppError> {
    desk_page(&state, &actor, q.date, q.ok, None).await
}

async fn desk_page(
    state: &AppState,
    actor: &Actor,
    date: Option<String>,
    flash: Option<String>,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let now = state.app.now();
    let recent = Period::parse(
        Some(&now.plus_secs(-30 * 86_400).cst_day()),
        Some(&now.plus_secs(86_400).cst_day()),
        now,
    )?;
    let d = date.clone();
    let (samples, mine, appeals, rules) = blocking(state, move |app| {
        let samples = if allows(a.role, Permission::QaInspect) {
            Some(qa::samples(app, &a, d.as_deref())?)
        } else {
            None
        };
        let mine = qa::list(app, &a, None, &recent)?;
        let appeals = if allows(a.role, Permission::QaAppealDecide) {
            qa::pending_appeals(app, &a)?
        } else {
            Vec::new()
        };
        Ok((samples, mine, appeals, qa::rules(app, &a)?))
    })
    .await?;
    let ctx = minijinja::context! {
        samples => samples, inspections => mine, appeals => appeals, rules => rules,
        is_operator => actor.role == Role::Operator,
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(state, Some(actor), "qa").with_flash(flash);
    Ok((status, page(l, "qa/desk.html", ctx)?).into_response())
}

/// The scoring form beside the order.
pub async fn score_form(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    score_page(&state, &actor, id, BTreeMap::new(), None).await
}

async fn score_page(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    typed: BTreeMap<String, String>,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (order, rules, done) = blocking(state, move |app| {
        let v = crate::service::orders::get_view(app, &a, id)?.into_order()?;
        Ok((v, qa::rules(app, &a)?, qa::of_order(app, &a, id)?))
    })
    .await?;
    let ctx = minijinja::context! {
        o => order, rules => rules, done => done, typed => typed,
        codes => super::orders::codes(),
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(state, Some(actor), "qa");
    Ok((status, page(l, "qa/score.html", ctx)?).into_response())
}

pub async fn score_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let mut scores = BTreeMap::new();
    let mut veto = Vec::new();
    for (k, v) in &form {
        if let Some(code) = k.strip_prefix("s_") {
            match v.trim().parse::<u32>() {
                Ok(n) => {
                    scores.insert(code.to_string(), n);
                }
                Err(_) => {
                    let e = AppError::invalid("scores", "每项得分须为整数");
                    return score_page(&state, &actor, id, form.clone(), Some(e)).await;
                }
            }
        } else if let Some(code) = k.strip_prefix("v_") {
            veto.push(code.to_string());
        }
    }
    let body = NewInspection {
        scores,
        veto,
        comment: form.get("comment").cloned().unwrap_or_default(),
    };
    let a = actor.clone();
    match blocking(&state, move |app| qa::inspect(app, &a, id, body)).await {
        Ok(v) => Ok(see_other(&format!("/qa?ok=inspected#i-{}", v.id)).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            score_page(&state, &actor, id, form, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn appeal(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let id = crate::http::extract::path_id(&id)?;
    let reason = form.get("reason").cloned().unwrap_or_default();
    let a = actor.clone();
    match blocking(&state, move |app| qa::appeal(app, &a, id, &reason)).await {
        Ok(_) => Ok(see_other("/qa?ok=qa_appealed").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            desk_page(&state, &actor, None, None, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn decide(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let id = crate::http::extract::path_id(&id)?;
    let uphold = form.get("uphold").map(String::as_str) == Some("1");
    let note = form.get("note").cloned();
    let a = actor.clone();
    match blocking(&state, move |app| {
        qa::decide(app, &a, id, uphold, note.as_deref())
    })
    .await
    {
        Ok(_) => Ok(see_other("/qa?ok=qa_decided").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            desk_page(&state, &actor, None, None, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

/// The admin's rubric: each item's name, points and veto; rows left blank are dropped.
pub async fn rubric_form(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<DeskQuery>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let rules = blocking(&state, move |app| qa::rules(app, &a)).await?;
    let ctx = minijinja::context! { rules => rules, error => None::<String> };
    let l = layout(&state, Some(&actor), "qa_rubric").with_flash(q.ok);
    Ok(page(l, "admin/qa.html", ctx)?.into_response())
}

pub async fn rubric_save(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let mut items = Vec::new();
    for i in 0..30 {
        let get = |k: &str| form.get(&format!("{k}_{i}")).map(|s| s.trim().to_string());
        let (Some(code), Some(name)) = (get("code"), get("name")) else {
            continue;
        };
        if code.is_empty() && name.is_empty() {
            continue;
        }
        let veto = form.contains_key(&format!("veto_{i}"));
        let points = get("points").unwrap_or_default();
        let points = if veto {
            0
        } else {
            points.parse().unwrap_or(u32::MAX)
        };
        items.push(RubricItem {
            code,
            name,
            points,
            veto,
        });
    }
    let num = |k: &str| form.get(k).and_then(|v| v.trim().parse::<u32>().ok());
    let change = RulesChange {
        items: Some(items),
        sample_percent: Some(num("sample_percent").unwrap_or(u32::MAX)),
        appeal_days: Some(num("appeal_days").unwrap_or(0)),
    };
    let a = actor.clone();
    match blocking(&state, move |app| qa::save_rules(app, &a, change)).await {
        Ok(_) => Ok(see_other("/admin/qa?ok=rubric_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let a = actor.clone();
            let rules = blocking(&state, move |app| qa::rules(app, &a)).await?;
            let ctx = minijinja::context! { rules => rules, error => Some(e.to_string()) };
            let l = layout(&state, Some(&actor), "qa_rubric");
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(l, "admin/qa.html", ctx)?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}
