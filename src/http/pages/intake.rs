//! The intake page (受理登记): the form, its checks, and the registered order.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::orders::{Form, codes_with, field, fields, ids, opt, outcome};
use crate::domain::order_state::Action;
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::orders::{self, NewOrder};
use crate::service::{Actor, auth};

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
    "call_id",
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
    let category_name = values
        .get("category")
        .and_then(Value::as_str)
        .and_then(|c| cats.get(c.trim()))
        .map(|c| cats.path(&c.code))
        .unwrap_or_default();
    // A number already filled in (a screen-pop) sends the cursor on to the name.
    let phone_given = values
        .get("caller_phone")
        .and_then(Value::as_str)
        .is_some_and(|p| !p.is_empty());
    let focus = match error.as_ref().and_then(|e| e.field()) {
        Some(f) => focus_of(f),
        None if phone_given && error.is_none() => "caller_name",
        None => "caller_phone",
    };
    let call = values
        .get("call_id")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let call = match call {
        Some(id) => {
            let a = actor.clone();
            blocking(state, move |app| {
                Ok(crate::service::cti::for_intake(app, &a, &id).ok())
            })
            .await?
        }
        None => None,
    };
    let ctx = json!({
        "codes": codes_with(&scripts),
        // Each unit with what finds it in the picker: its initials and whole reading.
        "units": units.into_iter().filter(|u| !u.disabled).map(|u| {
            let (initials, full) = crate::domain::pinyin::keys(&u.name);
            json!({"id": u.id.0, "code": u.code, "name": u.name, "py": format!("{initials} {full}")})
        }).collect::<Vec<_>>(),
        "category_name": category_name,
        "focus": focus,
        "categories": cats.items.iter().map(|c| json!({"code": c.code, "path": cats.path(&c.code)})).collect::<Vec<_>>(),
        "v": values,
        "form_token": token,
        "call": call.map(|c| json!({
            "call_id": c.call_id,
            "seat": c.seat,
            "ringing_at": c.ringing_at.display_cst(),
            "answered": c.answered_at.is_some(),
            "ended": c.ended_at.is_some(),
        })),
        "error": error.as_ref().map(|e| e.to_string()),
        "error_field": error.as_ref().and_then(|e| e.field()),
    });
    let l = layout(state, Some(actor), "intake");
    Ok((status, page(l, "orders/new.html", ctx)?).into_response())
}

/// The input the cursor goes to after an error in `field` (the service's field name).
fn focus_of(field: &str) -> &'static str {
    match field {
        "caller.name" => "caller_name",
        "caller.id_number" => "caller_id_number",
        "title" => "title",
        "content" => "content",
        "kind" => "kind_first",
        "category" => "category",
        "enterprise" | "enterprise.name" => "enterprise_name",
        "enterprise.credit_code" => "credit_code",
        "deputy" | "deputy.name" => "deputy_name",
        "deputy.level" => "deputy_level",
        "dispatch_unit" => "dispatch_unit",
        "dispatch_co_units" => "dispatch_co_units",
        "answer_reply" => "answer_reply",
        "answer_articles" => "answer_articles",
        "merge_into" => "merge_into",
        "reject_code" => "reject_code",
        "reject_note" => "reject_note",
        "reject_transfer" => "reject_transfer",
        "external_due" => "external_due",
        _ => "caller_phone",
    }
}

#[derive(serde::Deserialize)]
pub struct IntakeQuery {
    /// The call a screen-pop opened the form for.
    #[serde(default)]
    call: Option<String>,
}

pub async fn intake_form(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<IntakeQuery>,
) -> Result<Response, AppError> {
    actor.require(crate::domain::role::Permission::OrdersCreate)?;
    let mut v = Map::new();
    v.insert("channel".into(), json!("phone"));
    v.insert("line".into(), json!("general"));
    v.insert("urgency".into(), json!("normal"));
    if let Some(id) = q.call.filter(|c| !c.trim().is_empty()) {
        let a = actor.clone();
        let call = blocking(&state, move |app| {
            crate::service::cti::for_intake(app, &a, id.trim())
        })
        .await;
        match call {
            Ok(c) => {
                v.insert("caller_phone".into(), json!(c.caller));
                v.insert("call_id".into(), json!(c.call_id));
            }
            // An old or unknown call: the empty form, said why.
            Err(AppError::NotFound) => {
                let e = AppError::invalid(
                    "call",
                    "没有找到这个来电（已超过 12 小时或编号有误），请手工登记",
                );
                return intake_page(&state, &actor, StatusCode::OK, v, Some(e)).await;
            }
            Err(e) => return Err(e),
        }
    }
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
        "call_id": opt(field(f, "call_id")),
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
    let follow = match field(&f, "outcome") {
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
    let then = follow.clone();
    let result = blocking(&state, move |app| orders::intake_then(app, &a, new, then)).await;
    let r = match result {
        Ok(r) => r,
        // Nothing was registered: the form comes back whole, the field in error named.
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            return intake_page(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                Some(form_error(e, follow.as_ref().map(|f| f.0))),
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    let id = r.order.id;
    // A resubmitted form finds its order already registered (and acted on): just show it.
    let flash = match (&follow, r.created) {
        (Some((action, body)), true) => format!("new_{}", outcome(*action, body)),
        _ => "registered".to_string(),
    };
    Ok(crate::http::see_other(&format!("/orders/{}?ok={flash}", id.0)).into_response())
}

/// An error of the first action, named by the intake form's own field.
fn form_error(e: AppError, action: Option<Action>) -> AppError {
    let AppError::Invalid { field, message } = e else {
        return e;
    };
    let mapped = match (action, field) {
        (Some(Action::Dispatch), "unit") => "dispatch_unit",
        (Some(Action::Dispatch), "co_units") => "dispatch_co_units",
        (Some(Action::Answer), "reply" | "body") => "answer_reply",
        (Some(Action::Answer), "articles") => "answer_articles",
        (Some(Action::Merge), "into") => "merge_into",
        (Some(Action::Reject), "reason_code") => "reject_code",
        (Some(Action::Reject), "note") => "reject_note",
        (Some(Action::Reject), "transferred_to") => "reject_transfer",
        (_, f) => f,
    };
    AppError::Invalid {
        field: mapped,
        message,
    }
}
