//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>) for the platforms: the
//! categories as services, service requests created and read by a channel's token
//! (`api_key`), each request an order of that channel. A new request awaits screening
//! (受理审核), so creating one answers a `token`; the `service_request_id` (the order number)
//! comes once the order is accepted or declined.

use serde::Serialize;

use super::{Actor, App};
use crate::domain::category::Categories;
use crate::domain::order::Order;
use crate::domain::order_index::{Facet, Key};
use crate::domain::order_state::State;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::store::{Tx, meta, orders};

/// A service: a category of the county's tree.
#[derive(Debug, Serialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: String,
    pub group: String,
}

/// The services: every category without sub-categories (the ones an order is filed under
/// most exactly), grouped by their top level.
pub fn services(app: &App) -> Result<Vec<Service>, AppError> {
    let cats: Categories = app
        .store
        .read(|tx| meta::get(tx, "categories"))?
        .unwrap_or_default();
    let has_children = |code: &str| cats.items.iter().any(|c| c.parent.as_deref() == Some(code));
    Ok(cats
        .items
        .iter()
        .filter(|c| !has_children(&c.code))
        .map(|c| {
            let top = top_of(&cats, &c.code);
            Service {
                service_code: c.code.clone(),
                service_name: c.name.clone(),
                description: cats.path(&c.code),
                metadata: false,
                kind: "realtime",
                keywords: c.name.clone(),
                group: top,
            }
        })
        .collect())
}

fn top_of(cats: &Categories, code: &str) -> String {
    let mut cur = cats.get(code);
    for _ in 0..4 {
        match cur {
            Some(c) if c.parent.is_some() => cur = c.parent.as_deref().and_then(|p| cats.get(p)),
            Some(c) => return c.name.clone(),
            None => break,
        }
    }
    String::new()
}

/// The integration behind an `api_key`: a live platform token.
pub fn actor_for(app: &App, api_key: Option<&str>) -> Result<Actor, AppError> {
    let key = api_key.map(str::trim).filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(AppError::invalid(
            "api_key",
            "api_key is required (渠道接口令牌)",
        ));
    };
    match super::tokens::authenticate(app, key)? {
        Some((actor, super::tokens::TokenKind::Channel)) => Ok(actor),
        _ => Err(AppError::Forbidden),
    }
}

/// A POSTed service request (the form fields of the spec; attributes are not used).
#[derive(Debug, Default, serde::Deserialize)]
pub struct NewRequest {
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub jurisdiction_id: Option<String>,
    #[serde(default)]
    pub service_code: Option<String>,
    #[serde(default)]
    pub lat: Option<String>,
    #[serde(default)]
    pub long: Option<String>,
    #[serde(default)]
    pub address_string: Option<String>,
    #[serde(default)]
    pub address_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub media_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub token: String,
    pub service_notice: String,
    pub account_id: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Creates a service request: an order of the token's channel, awaiting screening.
pub fn create(app: &App, actor: &Actor, r: &NewRequest) -> Result<Created, AppError> {
    let channel = actor.channel.ok_or(AppError::Forbidden)?;
    let code = given(&r.service_code)
        .ok_or_else(|| AppError::invalid("service_code", "service_code is required"))?;
    let services = services(app)?;
    let service = services
        .iter()
        .find(|s| s.service_code == code)
        .ok_or_else(|| {
            AppError::invalid("service_code", format!("service_code {code} not found"))
        })?;
    let description = given(&r.description)
        .ok_or_else(|| AppError::invalid("description", "description is required (诉求内容)"))?;
    let place = match (given(&r.address_string), given(&r.lat), given(&r.long)) {
        (Some(a), _, _) => a.to_string(),
        (None, Some(lat), Some(long)) => {
            let ok = |s: &str, max: f64| {
                s.parse::<f64>()
                    .is_ok_and(|v| v.is_finite() && v.abs() <= max)
            };
            if !ok(lat, 90.0) || !ok(long, 180.0) {
                return Err(AppError::invalid("lat", "lat/long must be decimal degrees"));
            }
            format!("经纬度 {lat},{long}")
        }
        _ => {
            return Err(AppError::invalid(
                "address_string",
                "a location is required: address_string, or lat and long",
            ));
        }
    };
    let phone = given(&r.phone).ok_or_else(|| {
        AppError::invalid(
            "phone",
            "phone is required: the centre calls the requester back",
        )
    })?;
    let name: String = [given(&r.last_name), given(&r.first_name)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("");
    let token = format!(
        "o311-{}",
        super::auth::random_token()?
            .chars()
            .take(24)
            .collect::<String>()
    );
    let title: String = format!("{}：{}", service.service_name, description)
        .chars()
        .take(40)
        .collect();
    let new = serde_json::json!({
        "channel": channel.code(),
        "external_id": token,
        "line": "general",
        "kind": "help",
        "urgency": "normal",
        "category": code,
        "title": title,
        "content": description,
        "caller": {"name": if name.is_empty() { "网友".to_string() } else { name }, "phone": phone},
        "address": {"detail": place},
    });
    let new: super::orders::NewOrder =
        serde_json::from_value(new).map_err(|e| AppError::invalid("body", format!("{e}")))?;
    super::orders::intake(app, actor, new)?;
    Ok(Created {
        token,
        service_notice:
            "已收到，正在受理审核；审核后可凭 token 查到 service_request_id（工单编号）。".into(),
        account_id: None,
    })
}

/// A request as GeoReport reads it.
#[derive(Debug, Serialize)]
pub struct Request {
    pub service_request_id: String,
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: String,
    pub address: String,
    pub address_id: String,
    pub zipcode: String,
    pub media_url: String,
}

fn request_of(tx: &impl Tx, o: &Order, cats: &Categories) -> Result<Request, AppError> {
    let closed = super::orders::platform::is_closed(o.state);
    let notes = match o.state {
        State::Rejected => format!(
            "不予受理：{}",
            o.reject_code
                .map_or("其他", crate::domain::exclusion::label)
        ),
        _ => {
            super::orders::platform::public_reply(o).unwrap_or_else(|| o.state.label().to_string())
        }
    };
    let agency = match o.current_round() {
        Some(r) => crate::store::units::get(tx, r.unit)?
            .map(|u| u.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let expected = crate::domain::order_index::running(o)
        .map(|d| d.due.rfc3339_cst())
        .unwrap_or_default();
    Ok(Request {
        service_request_id: o.number.clone(),
        status: if closed { "closed" } else { "open" },
        status_notes: notes,
        service_name: o
            .category
            .as_deref()
            .and_then(|c| cats.get(c))
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        service_code: o.category.clone().unwrap_or_default(),
        // The platform's own words for what it registered; for an order of its channel that
        // the centre registered, the title only (as the platform's order view shows).
        description: if o.created_by == crate::domain::user::UserId(0) {
            o.content.clone()
        } else {
            o.title.clone()
        },
        agency_responsible: agency,
        service_notice: String::new(),
        requested_datetime: o.created_at.rfc3339_cst(),
        updated_datetime: o.updated_at.rfc3339_cst(),
        expected_datetime: expected,
        address: o.address.detail.clone().unwrap_or_default(),
        address_id: String::new(),
        zipcode: String::new(),
        media_url: String::new(),
    })
}

/// Whether a request has its id yet: screening has decided (accepted or declined).
fn screened(o: &Order) -> bool {
    o.state != State::Registered || !o.rounds.is_empty()
}

/// One request by its id (the order number), of the token's channel.
pub fn get(app: &App, actor: &Actor, id: &str) -> Result<Request, AppError> {
    let channel = actor.channel.ok_or(AppError::Forbidden)?;
    app.store.read(|tx| {
        let cats: Categories = meta::get(tx, "categories")?.unwrap_or_default();
        let o = orders::id_by_number(tx, id.trim())?
            .map(|i| orders::get(tx, i))
            .transpose()?
            .flatten()
            .filter(|o| o.channel == channel && screened(o))
            .ok_or(AppError::NotFound)?;
        request_of(tx, &o, &cats)
    })
}

#[derive(Debug, Serialize)]
pub struct TokenAnswer {
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_request_id: Option<String>,
}

/// The id a token stands for, once screening has decided; none while it awaits.
pub fn token(app: &App, actor: &Actor, token: &str) -> Result<TokenAnswer, AppError> {
    let channel = actor.channel.ok_or(AppError::Forbidden)?;
    let token = token.trim();
    if !token.starts_with("o311-") || token.len() > 64 {
        return Err(AppError::NotFound);
    }
    app.store.read(|tx| {
        let key = orders::external_key(channel.code(), token);
        let o = orders::id_by_external(tx, &key)?
            .map(|i| orders::get(tx, i))
            .transpose()?
            .flatten()
            .ok_or(AppError::NotFound)?;
        Ok(TokenAnswer {
            token: token.to_string(),
            service_request_id: screened(&o).then(|| o.number.clone()),
        })
    })
}

/// What a list asks for.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub jurisdiction_id: Option<String>,
    #[serde(default)]
    pub service_request_id: Option<String>,
    #[serde(default)]
    pub service_code: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// The spec's window when none is given, and the most a list returns.
const DEFAULT_DAYS: i64 = 90;
const MAX_RESULTS: usize = 1000;
/// Orders of the window read at most (newest first) to fill a filtered list.
const SCAN_CAP: usize = 20_000;

/// Requests of the token's channel: by ids, or by date (newest first, at most 1,000, the
/// last 90 days unless a window is given), service and status.
pub fn list(app: &App, actor: &Actor, q: &ListQuery) -> Result<Vec<Request>, AppError> {
    let channel = actor.channel.ok_or(AppError::Forbidden)?;
    if let Some(ids) = given(&q.service_request_id) {
        let ids: Vec<&str> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if ids.len() > 100 {
            return Err(AppError::invalid("service_request_id", "at most 100 ids"));
        }
        let mut out = Vec::new();
        for id in ids {
            match get(app, actor, id) {
                Ok(r) => out.push(r),
                Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        return Ok(out);
    }
    let date = |field: &'static str, v: &Option<String>| -> Result<Option<Timestamp>, AppError> {
        match given(v) {
            None => Ok(None),
            Some(s) => Timestamp::parse_rfc3339(s)
                .or_else(|| Timestamp::parse_cst_date(s))
                .map(Some)
                .ok_or_else(|| {
                    AppError::invalid(
                        field,
                        format!("{field} must be a W3C datetime, e.g. 2026-12-01T00:00:00+08:00"),
                    )
                }),
        }
    };
    let now = app.now();
    let end = date("end_date", &q.end_date)?;
    let start = date("start_date", &q.start_date)?;
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, Timestamp(s.0 + DEFAULT_DAYS * 86_400_000)),
        (None, Some(e)) => (Timestamp(e.0 - DEFAULT_DAYS * 86_400_000), e),
        (None, None) => (
            Timestamp(now.0 - DEFAULT_DAYS * 86_400_000),
            Timestamp(now.0 + 1),
        ),
    };
    if end.0 <= start.0 {
        return Err(AppError::invalid(
            "end_date",
            "end_date must be after start_date",
        ));
    }
    let status = match given(&q.status) {
        None => None,
        Some("open") => Some(false),
        Some("closed") => Some(true),
        Some(_) => return Err(AppError::invalid("status", "status is open or closed")),
    };
    let codes: Option<Vec<&str>> =
        given(&q.service_code).map(|s| s.split(',').map(str::trim).collect());
    app.store.read(|tx| {
        let cats: Categories = meta::get(tx, "categories")?.unwrap_or_default();
        let key: Key = Facet::Channel(channel).single();
        let ids = super::orders::index::between(tx, &key, Some(start), Some(end), 0, SCAN_CAP)?;
        let mut out = Vec::new();
        for id in ids {
            let Some(o) = orders::get(tx, id)? else {
                continue;
            };
            if !screened(&o)
                || status.is_some_and(|c| super::orders::platform::is_closed(o.state) != c)
                || codes
                    .as_ref()
                    .is_some_and(|cs| !cs.contains(&o.category.as_deref().unwrap_or("")))
            {
                continue;
            }
            out.push(request_of(tx, &o, &cats)?);
            if out.len() >= MAX_RESULTS {
                break;
            }
        }
        Ok(out)
    })
}
