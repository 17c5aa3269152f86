//! Order pages: the order page with its actions, and search (intake is in `intake`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::Flash;
use crate::domain::exclusion::EXCLUSIONS;
use crate::domain::order::{
    Channel, Gender, Kind, Line, OrderId, Resolved, RiskTag, Satisfaction, Urgency,
};
use crate::domain::order_state::{Action, State as OrderState};
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::orders::{self, ListFilter};

pub(super) type Form = Vec<(String, String)>;

pub(super) fn field<'a>(f: &'a Form, k: &str) -> &'a str {
    f.iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

pub(super) fn fields<'a>(f: &'a Form, k: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|(a, _)| a == k)
        .flat_map(|(_, v)| v.split([',', '，', ' ']))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// Ids typed or filled in as a list; anything not a number is kept so the action refuses it.
pub(super) fn ids(v: &[&str]) -> Value {
    Value::Array(
        v.iter()
            .map(|s| {
                s.parse::<u64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String((*s).into()))
            })
            .collect(),
    )
}

pub(super) fn opt(v: &str) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::String(v.to_string())
    }
}

/// Code lists the forms offer, with their Chinese labels.
#[derive(Serialize)]
pub(super) struct Codes {
    channels: Vec<(&'static str, &'static str)>,
    lines: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    urgencies: Vec<(&'static str, &'static str)>,
    risk_tags: Vec<(&'static str, &'static str)>,
    genders: Vec<(&'static str, &'static str)>,
    satisfactions: Vec<(&'static str, &'static str)>,
    states: Vec<(&'static str, &'static str)>,
    exclusions: Vec<Value>,
    actions: Map<String, Value>,
    /// Labels by code, for the timeline's sentences: `labels.kind.help` → 求助.
    labels: Value,
}

macro_rules! pairs {
    ($t:ty) => {
        <$t>::ALL.iter().map(|v| (v.code(), v.label())).collect()
    };
}

macro_rules! labels {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|v| (v.code().to_string(), Value::String(v.label().into())))
            .collect::<Map<String, Value>>()
    };
}

/// The code lists; exclusion scripts as the office has written them.
pub(super) fn codes_with(scripts: &std::collections::BTreeMap<String, String>) -> Codes {
    let mut c = codes();
    c.exclusions = EXCLUSIONS
        .iter()
        .map(|e| {
            let script = scripts
                .get(&e.code.to_string())
                .map(String::as_str)
                .unwrap_or(e.script);
            json!({"code": e.code, "label": e.label, "script": script})
        })
        .collect();
    c
}

pub(super) fn codes() -> Codes {
    let mut actions = Map::new();
    for a in Action::ALL {
        actions.insert(a.code().into(), Value::String(a.label().into()));
    }
    for (k, v) in [
        ("register", "受理登记"),
        ("auto_urge", "自动催办"),
        ("merged_in", "并入重复件"),
        ("repeat_call", "记录重复来电"),
        ("attach", "上传附件"),
        ("merged_reply", "主工单已答复"),
    ] {
        actions.insert(k.into(), Value::String(v.into()));
    }
    Codes {
        channels: pairs!(Channel),
        lines: pairs!(Line),
        kinds: pairs!(Kind),
        urgencies: pairs!(Urgency),
        risk_tags: pairs!(RiskTag),
        genders: pairs!(Gender),
        satisfactions: pairs!(Satisfaction),
        states: OrderState::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        exclusions: EXCLUSIONS
            .iter()
            .map(|e| json!({"code": e.code, "label": e.label, "script": e.script}))
            .collect(),
        actions,
        labels: json!({
            "kind": labels!(Kind),
            "channel": labels!(Channel),
            "satisfaction": labels!(Satisfaction),
            "resolved": labels!(Resolved),
        }),
    }
}

pub(super) async fn detail_page(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    flash: Option<String>,
    error: Option<(String, AppError)>,
    revealed: Option<Value>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (view, units, views, scripts, appeals) = blocking(state, move |app| {
        let v = orders::get_view(app, &a, id)?.into_order()?;
        let views: Vec<Value> = if crate::domain::role::allows(a.role, crate::domain::role::Permission::ViewLogRead) {
            orders::views(app, &a, id)?
                .into_iter()
                .rev()
                .take(100)
                .map(|r| json!({"at": r.at.display_cst(), "user_name": r.user_name, "kind": r.kind, "reason": r.reason}))
                .collect()
        } else {
            Vec::new()
        };
        let units = if a.role == crate::domain::role::Role::Unit {
            Vec::new()
        } else {
            crate::service::units::list(app, &a)?
        };
        let scripts = crate::service::screening_settings::get(app)?.exclusion_scripts;
        let appeals = crate::service::appeals::for_order_page(app, &a, id)?;
        Ok((v, units, views, scripts, appeals))
    })
    .await?;
    let status = match &error {
        Some((_, e)) => {
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
        }
        None => StatusCode::OK,
    };
    let ctx = json!({
        "o": view,
                "codes": codes_with(&scripts),
        "units": units.into_iter().filter(|u| !u.disabled).collect::<Vec<_>>(),
        "error_action": error.as_ref().map(|(a, _)| a.clone()),
        "error": error.as_ref().map(|(_, e)| e.to_string()),
        "revealed": revealed,
        "views": views,
        "appeals": appeals.listed,
        "appeal_figures": appeals.open,
    });
    let l = layout(state, Some(actor), "orders").with_flash(flash);
    Ok((status, page(l, "orders/show.html", ctx)?).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    detail_page(
        &state,
        &actor,
        OrderId(crate::http::extract::path_id(&id)?),
        flash.ok,
        None,
        None,
    )
    .await
}

/// Turns an action form into the JSON body the action takes.
fn action_body(action: Action, f: &Form) -> Value {
    let mut m = Map::new();
    for (k, v) in f {
        let v = v.trim();
        let val = match k.as_str() {
            "csrf" => continue,
            "approve" | "contacted" => Value::Bool(matches!(v, "1" | "true" | "on" | "yes")),
            "reason_code" | "days" | "handle_days" | "version" => match v.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) if v.is_empty() => continue,
                Err(_) => Value::String(v.to_string()),
            },
            "co_units" => Value::Array(
                fields(f, "co_units")
                    .into_iter()
                    .map(|s| Value::String(s.into()))
                    .collect(),
            ),
            "articles" => ids(&fields(f, "articles")),
            "unit" | "level" | "resolved" | "contacted_at" | "contact_method" | "public_reply"
            | "basis" | "transferred_to"
                if v.is_empty() =>
            {
                continue;
            }
            _ => Value::String(v.to_string()),
        };
        m.insert(k.clone(), val);
    }
    if action == Action::Reply && !m.contains_key("contacted") {
        m.insert("contacted".into(), Value::Bool(false));
    }
    Value::Object(m)
}

pub async fn act(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, action)): Path<(String, String)>,
    PageForm(f): PageForm<Form>,
) -> Result<Response, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let action = Action::parse(&action).ok_or(AppError::NotFound)?;
    if action == Action::Dispatch && field(&f, "unit").is_empty() {
        let e = AppError::invalid("unit", "请选择承办单位");
        return detail_page(
            &state,
            &actor,
            id,
            None,
            Some((action.code().into(), e)),
            None,
        )
        .await;
    }
    let body = action_body(action, &f);
    apply_and_show(&state, &actor, id, action, body).await
}

/// The flash code of a done action: the action's code, or for a decision and a callback the
/// outcome itself (granted or not, returned for a new reply, unreachable), so the message
/// says exactly what happened.
pub(super) fn outcome(action: Action, body: &Value) -> &'static str {
    let approved = body.get("approve").and_then(Value::as_bool);
    match (action, approved) {
        (Action::DecideExtension, Some(true)) => "extension_granted",
        (Action::DecideExtension, Some(false)) => "extension_denied",
        (Action::ReviewReply, Some(true)) => "reply_approved",
        (Action::ReviewReply, Some(false)) => "reply_returned",
        (Action::DecideReturn, Some(true)) => "return_approved",
        (Action::DecideReturn, Some(false)) => "return_rejected",
        (Action::Callback, _)
            if body.get("satisfaction").and_then(Value::as_str) == Some("unreachable") =>
        {
            "callback_unreachable"
        }
        _ => action.code(),
    }
}

/// Takes an action, then shows the order with the outcome: a flash on success (after a
/// redirect), or the page again with the reason next to the action's form.
pub(super) async fn apply_and_show(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    action: Action,
    body: Value,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let flash = outcome(action, &body);
    match blocking(state, move |app| {
        orders::actions::act(app, &a, id, action, body)
    })
    .await
    {
        Ok(_) => {
            Ok(crate::http::see_other(&format!("/orders/{}?ok={}", id.0, flash)).into_response())
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            detail_page(
                state,
                actor,
                id,
                None,
                Some((action.code().to_string(), e)),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn reveal(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(f): PageForm<Form>,
) -> Result<Response, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let reason = field(&f, "reason").to_string();
    let a = actor.clone();
    match blocking(&state, move |app| orders::reveal(app, &a, id, &reason)).await {
        Ok(v) => detail_page(&state, &actor, id, None, None, Some(v)).await,
        Err(e @ AppError::Invalid { .. }) => {
            detail_page(&state, &actor, id, None, Some(("reveal".into(), e)), None).await
        }
        Err(e) => Err(e),
    }
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    Q(filter): Q<ListFilter>,
) -> Result<Response, AppError> {
    // An order number typed into the search box, with or without its prefix, goes straight
    // to the order.
    if let Some(q) = filter.q.clone().filter(|q| !q.trim().is_empty()) {
        let a = actor.clone();
        let found = blocking(&state, move |app| orders::find_typed_number(app, &a, &q)).await?;
        if let Some(id) = found {
            return Ok(crate::http::see_other(&format!("/orders/{}", id.0)).into_response());
        }
    }
    // A phone number, or its last 4–10 digits, typed into the box searches by caller
    // (staff only: the service refuses caller searches from units).
    let mut filter = filter;
    if let Some(q) = filter.q.clone()
        && actor.role != crate::domain::role::Role::Unit
        && (crate::domain::validate::normalize_phone(&q).is_some()
            || orders::phone_tail_typed(&q).is_some())
        && filter.phone.as_deref().unwrap_or("").is_empty()
    {
        filter.phone = Some(q.trim().to_string());
        filter.q = None;
    }
    let a = actor.clone();
    let f = filter.clone();
    let result = blocking(&state, move |app| {
        let p = orders::list_views(app, &a, &f)?;
        Ok((p.items, p.total, p.page, p.per_page, p.search_behind))
    })
    .await;
    let (items, total, page_no, per_page, behind, error) = match result {
        Ok((i, t, p, pp, b)) => (i, t, p, pp, b, None),
        Err(e @ AppError::Invalid { .. }) => (Vec::new(), 0, 1, 50, None, Some(e.to_string())),
        Err(e) => return Err(e),
    };
    let pages = total.div_ceil(per_page as usize).max(1);
    let qs = |p: u32| {
        let mut parts = vec![format!("page={p}")];
        for (k, v) in [
            ("q", &filter.q),
            ("state", &filter.state),
            ("kind", &filter.kind),
            ("channel", &filter.channel),
            ("line", &filter.line),
            ("phone", &filter.phone),
            ("unit", &filter.unit),
            ("from", &filter.from),
            ("to", &filter.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", crate::http::guard::urlencode(v)));
            }
        }
        parts.join("&")
    };
    let a = actor.clone();
    let units = if actor.role == crate::domain::role::Role::Unit {
        Vec::new()
    } else {
        blocking(&state, move |app| crate::service::units::list(app, &a)).await?
    };
    let ctx = json!({
        "items": items,
        "total": total,
        "page_no": page_no,
        "pages": pages,
        "prev": (page_no > 1).then(|| qs(page_no - 1)),
        "next": ((page_no as usize) < pages).then(|| qs(page_no + 1)),
        "f": {
            "q": filter.q, "state": filter.state, "kind": filter.kind, "channel": filter.channel,
            "line": filter.line, "phone": filter.phone, "unit": filter.unit, "from": filter.from, "to": filter.to,
        },
        "codes": codes(),
        "units": units,
        "error": error,
        "search_behind": behind,
    });
    let l = layout(&state, Some(&actor), "search");
    Ok(page(l, "orders/index.html", ctx)?.into_response())
}

pub async fn repeat_call(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(f): PageForm<Form>,
) -> Result<Response, AppError> {
    let id = OrderId(crate::http::extract::path_id(&id)?);
    let note = field(&f, "note").to_string();
    let a = actor.clone();
    blocking(&state, move |app| orders::repeat_call(app, &a, id, &note)).await?;
    Ok(crate::http::see_other(&format!("/orders/{}?ok=repeat_call", id.0)).into_response())
}

pub async fn urge_unit(
    State(state): State<AppState>,
    actor: Actor,
    Path(unit): Path<String>,
    PageForm(f): PageForm<Form>,
) -> Result<Response, AppError> {
    let note = field(&f, "note").to_string();
    let n = blocking(&state, move |app| {
        orders::urge_unit_overdue(app, &actor, &unit, &note)
    })
    .await?;
    Ok(crate::http::see_other(&format!("/?ok=urged_{n}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NextQuery {
    #[serde(default)]
    after: Option<u64>,
}

/// 下一件: the next callback waiting, or home when none is left.
pub async fn next_callback(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<NextQuery>,
) -> Result<Response, AppError> {
    let after = q.after.map(OrderId);
    let next = blocking(&state, move |app| {
        orders::queues::next_callback(app, &actor, after)
    })
    .await?;
    Ok(match next {
        Some(id) => crate::http::see_other(&format!("/orders/{}", id.0)),
        None => crate::http::see_other("/?ok=callbacks_done"),
    }
    .into_response())
}
