//! Order pages: intake (受理登记), the order page with its actions, and search.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Flash;
use crate::domain::exclusion::EXCLUSIONS;
use crate::domain::order::{Channel, Gender, Kind, Line, OrderId, RiskTag, Satisfaction, Urgency};
use crate::domain::order_state::{Action, State as OrderState};
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::orders::{self, ListFilter, NewOrder};
use crate::service::{Actor, auth};

type Form = Vec<(String, String)>;

fn field<'a>(f: &'a Form, k: &str) -> &'a str {
    f.iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

fn fields<'a>(f: &'a Form, k: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|(a, _)| a == k)
        .flat_map(|(_, v)| v.split([',', '，', ' ']))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// Ids typed or filled in as a list; anything not a number is kept so the action refuses it.
fn ids(v: &[&str]) -> Value {
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

fn opt(v: &str) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::String(v.to_string())
    }
}

/// Code lists the forms offer, with their Chinese labels.
#[derive(Serialize)]
struct Codes {
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
}

macro_rules! pairs {
    ($t:ty) => {
        <$t>::ALL.iter().map(|v| (v.code(), v.label())).collect()
    };
}

/// The code lists; exclusion scripts as the office has written them.
fn codes_with(scripts: &std::collections::BTreeMap<String, String>) -> Codes {
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

fn codes() -> Codes {
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
    }
}

/// The intake form's fields as typed, kept when the form comes back with an error.
fn intake_values(f: &Form) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in f {
        if k == "csrf" {
            continue;
        }
        match m.get_mut(k) {
            Some(Value::Array(a)) => a.push(Value::String(v.clone())),
            Some(old) => {
                let prev = old.clone();
                *old = Value::Array(vec![prev, Value::String(v.clone())]);
            }
            None => {
                m.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    m
}

/// Every field of the intake form, so the template never meets an undefined value.
const INTAKE_FIELDS: &[&str] = &[
    "caller_phone",
    "caller_name",
    "caller_gender",
    "caller_id_number",
    "caller_type",
    "consent_phone",
    "confidential",
    "kind",
    "channel",
    "line",
    "urgency",
    "enterprise_name",
    "credit_code",
    "deputy_name",
    "deputy_level",
    "category",
    "town",
    "village",
    "detail",
    "title",
    "content",
    "risk_tags",
    "external_id",
    "external_due",
    "outcome",
    "answer_reply",
    "dispatch_unit",
    "dispatch_co_units",
    "reject_code",
    "reject_note",
    "reject_transfer",
    "answer_articles",
    "merge_into",
];

async fn intake_page(
    state: &AppState,
    actor: &Actor,
    status: StatusCode,
    mut values: Map<String, Value>,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    for k in INTAKE_FIELDS {
        values
            .entry(k.to_string())
            .or_insert(Value::String(String::new()));
    }
    let a = actor.clone();
    let (units, cats, scripts) = blocking(state, move |app| {
        let units = crate::service::units::list(app, &a)?;
        let cats = orders::categories(app)?;
        let scripts = crate::service::screening_settings::get(app)?.exclusion_scripts;
        Ok((units, cats, scripts))
    })
    .await?;
    let token = values
        .get("form_token")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or(auth::random_token()?);
    let ctx = json!({
                "codes": codes_with(&scripts),
        "units": units.into_iter().filter(|u| !u.disabled).collect::<Vec<_>>(),
        "categories": cats.items.iter().map(|c| json!({"code": c.code, "path": cats.path(&c.code)})).collect::<Vec<_>>(),
        "v": values,
        "form_token": token,
        "error": error.as_ref().map(|e| e.to_string()),
        "error_field": error.as_ref().and_then(|e| e.field()),
    });
    let l = layout(state, Some(actor), "intake");
    Ok((status, page(l, "orders/new.html", ctx)?).into_response())
}

pub async fn intake_form(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::OrdersCreate)?;
    let mut v = Map::new();
    v.insert("channel".into(), json!("phone"));
    v.insert("line".into(), json!("general"));
    v.insert("urgency".into(), json!("normal"));
    intake_page(&state, &actor, StatusCode::OK, v, None).await
}

fn new_order(f: &Form) -> Result<NewOrder, AppError> {
    let line = field(f, "line");
    let mut body = json!({
        "channel": if field(f, "channel").is_empty() { "phone" } else { field(f, "channel") },
        "line": if line.is_empty() { "general" } else { line },
        "kind": field(f, "kind"),
        "urgency": if field(f, "urgency").is_empty() { "normal" } else { field(f, "urgency") },
        "category": opt(field(f, "category")),
        "title": field(f, "title"),
        "content": field(f, "content"),
        "external_id": opt(field(f, "external_id")),
        "external_due": opt(field(f, "external_due")),
        "caller": {
            "name": field(f, "caller_name"),
            "phone": field(f, "caller_phone"),
            "id_number": opt(field(f, "caller_id_number")),
            "gender": opt(field(f, "caller_gender")),
            "consent_phone": !field(f, "consent_phone").is_empty(),
            "type": opt(field(f, "caller_type")),
        },
        "confidential": !field(f, "confidential").is_empty(),
        "address": {"town": opt(field(f, "town")), "village": opt(field(f, "village")), "detail": opt(field(f, "detail"))},
        "risk_tags": fields(f, "risk_tags"),
        "form_token": opt(field(f, "form_token")),
    });
    if line == "enterprise" {
        body["enterprise"] =
            json!({"name": field(f, "enterprise_name"), "credit_code": field(f, "credit_code")});
    }
    if line == "npc" {
        body["deputy"] =
            json!({"name": field(f, "deputy_name"), "level": field(f, "deputy_level")});
    }
    if field(f, "kind").is_empty() {
        return Err(AppError::invalid("kind", "请选择诉求类型"));
    }
    serde_json::from_value(body)
        .map_err(|e| AppError::invalid("body", format!("表单内容无效：{e}")))
}

pub async fn intake_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<Form>,
) -> Result<Response, AppError> {
    let values = intake_values(&f);
    let new = match new_order(&f) {
        Ok(n) => n,
        Err(e) => {
            return intake_page(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                Some(e),
            )
            .await;
        }
    };
    let outcome = field(&f, "outcome").to_string();
    let follow = match outcome.as_str() {
        "answer" => Some((
            Action::Answer,
            json!({"reply": field(&f, "answer_reply"), "articles": ids(&fields(&f, "answer_articles"))}),
        )),
        "dispatch" => Some((
            Action::Dispatch,
            json!({"unit": field(&f, "dispatch_unit"), "co_units": fields(&f, "dispatch_co_units")}),
        )),
        "merge" => Some((Action::Merge, json!({"into": field(&f, "merge_into")}))),
        "reject" => Some((
            Action::Reject,
            json!({"reason_code": field(&f, "reject_code").parse::<u8>().unwrap_or(0), "note": field(&f, "reject_note"), "transferred_to": opt(field(&f, "reject_transfer"))}),
        )),
        _ => None,
    };
    if let Some((Action::Dispatch, _)) = &follow
        && field(&f, "dispatch_unit").is_empty()
    {
        let e = AppError::invalid("dispatch_unit", "派单请选择承办单位");
        return intake_page(
            &state,
            &actor,
            StatusCode::UNPROCESSABLE_ENTITY,
            values,
            Some(e),
        )
        .await;
    }
    let a = actor.clone();
    let result = blocking(&state, move |app| orders::intake(app, &a, new)).await;
    let r = match result {
        Ok(r) => r,
        Err(e @ AppError::Invalid { .. }) => {
            return intake_page(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                Some(e),
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    let id = r.order.id;
    // A resubmitted form finds its order already registered (and acted on): just show it.
    if !r.created {
        return Ok(
            crate::http::see_other(&format!("/orders/{}?ok=registered", id.0)).into_response(),
        );
    }
    let Some((action, body)) = follow else {
        return Ok(
            crate::http::see_other(&format!("/orders/{}?ok=registered", id.0)).into_response(),
        );
    };
    // Registered; if the outcome fails the order is safe and the page says what went wrong.
    apply_and_show(&state, &actor, id, action, body).await
}

async fn detail_page(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    flash: Option<String>,
    error: Option<(String, AppError)>,
    revealed: Option<Value>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (view, units, views, scripts) = blocking(state, move |app| {
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
        Ok((v, units, views, scripts))
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

/// Takes an action, then shows the order with the outcome: a flash on success (after a
/// redirect), or the page again with the reason next to the action's form.
async fn apply_and_show(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    action: Action,
    body: Value,
) -> Result<Response, AppError> {
    let a = actor.clone();
    match blocking(state, move |app| {
        orders::actions::act(app, &a, id, action, body)
    })
    .await
    {
        Ok(_) => Ok(
            crate::http::see_other(&format!("/orders/{}?ok={}", id.0, action.code()))
                .into_response(),
        ),
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
    // A number typed into the search box goes straight to the order.
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| {
        // A prefix of 1–8 capitals, then YYYYMMDD and a 5-digit serial.
        let digits = q.trim_start_matches(|c: char| c.is_ascii_uppercase());
        let prefix = q.len() - digits.len();
        (1..=8).contains(&prefix)
            && digits.len() == 13
            && digits.bytes().all(|b| b.is_ascii_digit())
    }) {
        let key = q.to_string();
        let a = actor.clone();
        let found = blocking(&state, move |app| orders::find_by_number(app, &a, &key)).await?;
        if let Some(id) = found {
            return Ok(crate::http::see_other(&format!("/orders/{}", id.0)).into_response());
        }
    }
    // A phone number typed into the box searches by caller (staff only: the service
    // refuses caller searches from units).
    let mut filter = filter;
    if let Some(q) = filter.q.clone()
        && actor.role != crate::domain::role::Role::Unit
        && crate::domain::validate::normalize_phone(&q).is_some()
        && filter.phone.as_deref().unwrap_or("").is_empty()
    {
        filter.phone = Some(q);
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
