//! Work orders: intake with validation and hints, reading (masked per role), lists.

pub mod actions;
pub mod privacy;
pub mod queues;
pub mod view;

use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Actor, App};
use crate::domain::calendar::Calendar;
use crate::domain::category::Categories;
use crate::domain::intake::{EmergencyWord, emergency_hits, similarity};
use crate::domain::limits::Limits;
use crate::domain::order::{
    Address, Caller, Channel, Deputy, Enterprise, Flags, Gender, Kind, Line, Order, OrderId,
    RiskTag, Urgency,
};
use crate::domain::order_state::State;
use crate::domain::role::{Permission, Role};
use crate::domain::time::Timestamp;
use crate::domain::validate::{check_id_number, normalize_phone, valid_credit_code};
use crate::error::AppError;
use crate::store::{Tx, audit, meta, orders};

/// The configuration orders are computed with, as the office has set it.
pub struct OrderConfig {
    pub calendar: Calendar,
    pub limits: Limits,
    pub categories: Categories,
    pub emergency: Vec<EmergencyWord>,
}

pub fn config(tx: &impl Tx) -> Result<OrderConfig, AppError> {
    Ok(OrderConfig {
        calendar: meta::get(tx, "calendar")?.unwrap_or_default(),
        limits: meta::get(tx, "limits")?.unwrap_or_default(),
        categories: meta::get(tx, "categories")?.unwrap_or_default(),
        emergency: crate::service::screening_settings::load(tx)?.emergency_words,
    })
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCaller {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub consent_phone: Option<bool>,
    #[serde(default, rename = "type")]
    pub caller_type: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub channel: Channel,
    #[serde(default)]
    pub external_id: Option<String>,
    /// RFC 3339, or `YYYY-MM-DD` meaning the end of that day in Beijing.
    #[serde(default)]
    pub external_due: Option<String>,
    #[serde(default = "default_line")]
    pub line: Line,
    pub kind: Kind,
    #[serde(default = "default_urgency")]
    pub urgency: Urgency,
    #[serde(default)]
    pub category: Option<String>,
    pub title: String,
    pub content: String,
    pub caller: NewCaller,
    #[serde(default)]
    pub confidential: Option<bool>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub risk_tags: Option<Vec<RiskTag>>,
    #[serde(default)]
    pub enterprise: Option<Enterprise>,
    #[serde(default)]
    pub deputy: Option<Deputy>,
    /// A one-time token from the intake page: resubmitting the same form returns the same order.
    #[serde(default)]
    pub form_token: Option<String>,
}

fn default_line() -> Line {
    Line::General
}
fn default_urgency() -> Urgency {
    Urgency::Normal
}

fn text(
    field: &'static str,
    label: &str,
    v: &str,
    max: usize,
    required: bool,
) -> Result<String, AppError> {
    let t = v.trim();
    let n = t.chars().count();
    if required && n == 0 {
        return Err(AppError::invalid(field, format!("请填写{label}")));
    }
    if n > max {
        return Err(AppError::invalid(
            field,
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::invalid(field, format!("{label}含有无效字符")));
    }
    Ok(t.to_string())
}

fn opt_text(
    field: &'static str,
    label: &str,
    v: &Option<String>,
    max: usize,
) -> Result<Option<String>, AppError> {
    match v {
        Some(s) if !s.trim().is_empty() => text(field, label, s, max, false).map(Some),
        _ => Ok(None),
    }
}

/// A platform's deadline: RFC 3339, or `YYYY-MM-DD` meaning the end of that day in
/// Beijing; within the accepted years.
pub fn parse_due(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    Timestamp::parse_rfc3339(s)
        .or_else(|| Timestamp::parse_cst_date(s).map(|t| t.plus_secs(86400 - 1)))
}

/// The validated order fields, before a number and id are given.
fn validate(new: &NewOrder, cfg: &OrderConfig, now: Timestamp) -> Result<Order, AppError> {
    let title = text("title", "标题", &new.title, 100, true)?;
    let content = text("content", "诉求内容", &new.content, 5000, true)?;
    let name = text("caller.name", "来电人姓名", &new.caller.name, 32, true)?;
    let phone = normalize_phone(&new.caller.phone).ok_or_else(|| {
        AppError::invalid(
            "caller.phone",
            "电话号码格式不正确（手机 11 位，座机带区号，如 0734-5212345）",
        )
    })?;
    let id_number = match new
        .caller
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(id) => {
            let id = id.to_ascii_uppercase();
            let today: u32 = now.cst_digits()[..8].parse().unwrap_or(u32::MAX);
            check_id_number(&id, today)
                .map_err(|p| AppError::invalid("caller.id_number", p.message()))?;
            Some(id)
        }
        None => None,
    };
    if matches!(new.kind, Kind::Complaint | Kind::Report) && id_number.is_none() {
        return Err(AppError::invalid(
            "caller.id_number",
            "投诉、举报须登记来电人身份证号码",
        ));
    }
    let enterprise = match (new.line, &new.enterprise) {
        (Line::Enterprise, Some(e)) => {
            let code = e.credit_code.trim().to_ascii_uppercase();
            if !valid_credit_code(&code) {
                return Err(AppError::invalid(
                    "enterprise.credit_code",
                    "统一社会信用代码校验不通过，请核对",
                ));
            }
            Some(Enterprise {
                name: text("enterprise.name", "企业名称", &e.name, 64, true)?,
                credit_code: code,
            })
        }
        (Line::Enterprise, None) => {
            return Err(AppError::invalid(
                "enterprise",
                "政企通专席须登记企业名称和统一社会信用代码",
            ));
        }
        (_, _) => None,
    };
    let deputy = match (new.line, &new.deputy) {
        (Line::Npc, Some(d)) => Some(Deputy {
            name: text("deputy.name", "代表姓名", &d.name, 32, true)?,
            level: text("deputy.level", "代表层级", &d.level, 32, true)?,
        }),
        (Line::Npc, None) => {
            return Err(AppError::invalid("deputy", "人大专席须登记代表姓名和层级"));
        }
        (_, _) => None,
    };
    let category = match new
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => match cfg.categories.get(c) {
            Some(cat) => Some(cat.code.clone()),
            None => return Err(AppError::invalid("category", "诉求分类不存在")),
        },
        None => None,
    };
    let external_id = opt_text("external_id", "平台编号", &new.external_id, 64)?;
    let external_due = match new.external_due.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(parse_due(s).ok_or_else(|| {
            AppError::invalid(
                "external_due",
                "平台办理时限无效：应为 2000—2099 年的日期（YYYY-MM-DD）或 RFC 3339 时间",
            )
        })?),
        None => None,
    };
    let address = match &new.address {
        Some(a) => Address {
            town: opt_text("address.town", "乡镇（街道）", &a.town, 32)?,
            village: opt_text("address.village", "村（社区）", &a.village, 32)?,
            detail: opt_text("address.detail", "详细地址", &a.detail, 200)?,
        },
        None => Address::default(),
    };
    let mut risk_tags = new.risk_tags.clone().unwrap_or_default();
    risk_tags.dedup();
    Ok(Order {
        id: OrderId(0),
        number: String::new(),
        query_code: String::new(),
        version: 1,
        state: State::Registered,
        channel: new.channel,
        external_id,
        external_due,
        line: new.line,
        kind: new.kind,
        urgency: new.urgency,
        category,
        title,
        content,
        caller: Caller {
            name,
            phone,
            id_number,
            gender: new.caller.gender,
            consent_phone: new.caller.consent_phone.unwrap_or(false),
            caller_type: opt_text("caller.type", "来电人类型", &new.caller.caller_type, 16)?,
        },
        confidential: new.confidential.unwrap_or(false),
        address,
        risk_tags,
        enterprise,
        deputy,
        rounds: Vec::new(),
        callbacks: Vec::new(),
        timeline: Vec::new(),
        flags: Flags::default(),
        reject_code: None,
        reject_transfer: None,
        reject_told: None,
        answer: None,
        articles: Vec::new(),
        cited: Vec::new(),
        attachments: Vec::new(),
        closure: None,
        callback_due: None,
        merged_reply: None,
        created_at: Timestamp(0),
        created_by: crate::domain::user::UserId(0),
        updated_at: Timestamp(0),
        closed_at: None,
    })
}

/// What the operator should know while registering: emergencies and likely duplicates.
pub fn hints(
    tx: &impl Tx,
    cfg: &OrderConfig,
    now: Timestamp,
    phone: Option<&str>,
    content: &str,
    address: &Address,
    exclude: Option<OrderId>,
) -> Result<Vec<Value>, AppError> {
    let mut warnings = Vec::new();
    if let Some(p) = phone {
        warnings.extend(crate::service::blacklist::warnings(tx, p, now)?);
    }
    let hits = emergency_hits(content, &cfg.emergency);
    if !hits.is_empty() {
        let mut numbers: Vec<&str> = hits.iter().map(|h| h.number.as_str()).collect();
        numbers.dedup();
        warnings.push(json!({
            "code": "emergency",
            "words": hits.iter().map(|h| h.word.as_str()).collect::<Vec<_>>(),
            "numbers": numbers,
        }));
    }
    let since = now.plus_secs(-90 * 86400);
    let mut scored: Vec<(f64, &'static str, Order)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if let Some(p) = phone {
        for id in orders::ids_for_phone(tx, p)?.into_iter().take(50) {
            if Some(id) == exclude || !seen.insert(id) {
                continue;
            }
            if let Some(o) = orders::get(tx, id)?
                && o.created_at >= since
            {
                let s = 0.5 + 0.5 * similarity(content, &o.content);
                scored.push((s, "same_caller", o));
            }
        }
    }
    // Recent orders from anyone: same address or similar words.
    for id in orders::ids_desc(tx, None, 500)? {
        if Some(id) == exclude || seen.contains(&id) {
            continue;
        }
        let Some(o) = orders::get(tx, id)? else {
            continue;
        };
        if o.created_at < since {
            break;
        }
        let same_address = address.detail.is_some()
            && address.detail == o.address.detail
            && address.town == o.address.town;
        let sim = similarity(content, &o.content);
        let score = if same_address { 0.4 + 0.6 * sim } else { sim };
        if score >= 0.45 {
            seen.insert(id);
            scored.push((
                score,
                if same_address {
                    "same_address"
                } else {
                    "similar_content"
                },
                o,
            ));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let dups: Vec<Value> = scored
        .iter()
        .filter(|(s, _, _)| *s >= 0.5)
        .take(5)
        .map(|(s, why, o)| {
            json!({
                "id": o.id.0,
                "number": o.number,
                "title": o.title,
                "state": o.state,
                "created_at": o.created_at.rfc3339_cst(),
                "score": (s * 100.0).round() / 100.0,
                "reason": why,
            })
        })
        .collect();
    if !dups.is_empty() {
        warnings.push(json!({
            "code": "possible_duplicate",
            "order_ids": dups.iter().map(|d| d["id"].clone()).collect::<Vec<_>>(),
            "orders": dups,
        }));
    }
    Ok(warnings)
}

pub struct IntakeResult {
    pub order: Order,
    pub warnings: Vec<Value>,
    pub created: bool,
}

/// The order already registered under an idempotency key, if any.
fn existing(tx: &impl Tx, key: &str) -> Result<Option<IntakeResult>, AppError> {
    match orders::id_by_external(tx, key)? {
        Some(id) => Ok(Some(IntakeResult {
            order: orders::get(tx, id)?.ok_or(AppError::NotFound)?,
            warnings: Vec::new(),
            created: false,
        })),
        None => Ok(None),
    }
}

fn random_digits(n: usize) -> Result<String, AppError> {
    let mut b = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| AppError::Internal("random source failed".into()))?;
    Ok(b.iter().map(|x| char::from(b'0' + x % 10)).collect())
}

/// Registers an order. A known `(channel, external_id)` returns the existing order.
pub fn intake(app: &App, actor: &Actor, new: NewOrder) -> Result<IntakeResult, AppError> {
    actor.require(Permission::OrdersCreate)?;
    if actor.channel.is_some_and(|c| c != new.channel) {
        return Err(AppError::invalid("channel", "接口令牌只能登记本渠道的工单"));
    }
    let now = app.now();
    let prefix = app.settings().number_prefix;
    let day = now.cst_digits()[..8].to_string();
    let query_code = random_digits(6)?;
    app.store.write(|tx| -> Result<IntakeResult, AppError> {
        let cfg = config(tx)?;
        if let Some(tok) = new.form_token.as_deref().filter(|t| !t.is_empty())
            && let Some(found) = existing(tx, &format!("form:{tok}"))?
        {
            return Ok(found);
        }
        let mut order = validate(&new, &cfg, now)?;
        if let Some(ext) = &order.external_id
            && let Some(found) = existing(tx, &orders::external_key(order.channel.code(), ext))?
        {
            return Ok(found);
        }
        // Emergency words count in the title as much as in the content.
        let words = format!("{} {}", order.title, order.content);
        let warnings = hints(
            tx,
            &cfg,
            now,
            Some(&order.caller.phone),
            &words,
            &order.address,
            None,
        )?;
        let serial = orders::next_serial(tx, &day)?;
        order.id = orders::next_id(tx)?;
        order.number = format!("{prefix}{day}{serial:05}");
        order.query_code = query_code.clone();
        order.created_at = now;
        order.created_by = actor.id;
        order.updated_at = now;
        let note = format!(
            "{}登记，渠道：{}",
            order.kind.label(),
            order.channel.label()
        );
        order.push_timeline(
            now,
            actor.id,
            &actor.display_name,
            actor.role,
            "register",
            note,
        );
        orders::put(tx, None, &order)?;
        if let Some(tok) = new
            .form_token
            .as_deref()
            .filter(|t| !t.is_empty() && t.len() <= 64)
        {
            orders::set_external(tx, &format!("form:{tok}"), order.id)?;
        }
        audit::append(
            tx,
            now,
            actor.event(
                "order.register",
                Some(format!("order:{}", order.id.0)),
                format!("受理登记 {}", order.number),
            ),
        )?;
        Ok(IntakeResult {
            order,
            warnings,
            created: true,
        })
    })
}

/// Loads an order the actor may see; a unit user gets 404 for other units' orders.
pub fn load_visible(tx: &impl Tx, actor: &Actor, id: OrderId) -> Result<Order, AppError> {
    actor.require(Permission::OrdersRead)?;
    let o = orders::get(tx, id)?.ok_or(AppError::NotFound)?;
    if actor.channel.is_some_and(|c| c != o.channel) {
        return Err(AppError::NotFound);
    }
    if actor.role == Role::Unit && !actor.unit.is_some_and(|u| o.involves_unit(u)) {
        return Err(AppError::NotFound);
    }
    Ok(o)
}

/// Finds an order by id or number.
pub fn resolve(tx: &impl Tx, key: &str) -> Result<Option<OrderId>, AppError> {
    if let Ok(n) = key.parse::<u64>() {
        return Ok(Some(OrderId(n)));
    }
    Ok(orders::id_by_number(tx, key.trim())?)
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListFilter {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub line: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub per_page: Option<u32>,
}

pub struct ListPage {
    pub items: Vec<Order>,
    pub total: usize,
    pub page: u32,
    pub per_page: u32,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Orders matching the filter, newest first, one page.
pub fn list(app: &App, actor: &Actor, f: &ListFilter) -> Result<ListPage, AppError> {
    actor.require(Permission::OrdersRead)?;
    let state = match nonempty(&f.state) {
        Some(s) => {
            Some(State::parse(s).ok_or_else(|| AppError::invalid("state", "未知的工单状态"))?)
        }
        None => None,
    };
    let kind = match nonempty(&f.kind) {
        Some(s) => Some(Kind::parse(s).ok_or_else(|| AppError::invalid("kind", "未知的诉求类型"))?),
        None => None,
    };
    let channel = match nonempty(&f.channel) {
        Some(s) => {
            Some(Channel::parse(s).ok_or_else(|| AppError::invalid("channel", "未知的渠道"))?)
        }
        None => None,
    };
    // An integration sees its own channel only, whatever it asks for.
    let channel = actor.channel.or(channel);
    let line = match nonempty(&f.line) {
        Some(s) => Some(Line::parse(s).ok_or_else(|| AppError::invalid("line", "未知的专席"))?),
        None => None,
    };
    // A unit never searches by caller: a guessed number must confirm nothing.
    if actor.role == Role::Unit && nonempty(&f.phone).is_some() {
        return Err(AppError::Forbidden);
    }
    let phone = nonempty(&f.phone).map(|p| normalize_phone(p).unwrap_or_else(|| p.to_string()));
    let date = |field: &'static str, v: &Option<String>| -> Result<Option<Timestamp>, AppError> {
        match nonempty(v) {
            Some(s) => Timestamp::parse_cst_date(s).map(Some).ok_or_else(|| {
                AppError::invalid(field, "日期应为 YYYY-MM-DD 的真实日期（2000—2099 年）")
            }),
            None => Ok(None),
        }
    };
    let (from, to) = (date("from", &f.from)?, date("to", &f.to)?);
    let q = nonempty(&f.q).map(str::to_lowercase);
    let words = q.clone();
    let per_page = f.per_page.unwrap_or(50).clamp(1, 200);
    let page = f.page.unwrap_or(1).clamp(1, 100_000);
    app.store.read(|tx| -> Result<ListPage, AppError> {
        let unit = match nonempty(&f.unit) {
            Some(u) => Some(super::users::resolve_unit(
                tx,
                &super::users::UnitRef::Code(u.to_string()),
            )?),
            None => None,
        };
        // Unit users see their own unit only, whatever they ask for.
        let unit = if actor.role == Role::Unit {
            actor.unit.or(Some(crate::domain::unit::UnitId(0)))
        } else {
            unit
        };
        // Words go to the full-text index (ranked); without it, a plain scan below.
        let ranked = match (&q, app.search.get()) {
            (Some(text), Some(ix)) => {
                // A failed catch-up (a full disk) leaves the index a little behind, no more.
                if let Err(e) = ix.catch_up(&app.store) {
                    tracing::warn!(error = %e, "search index catch-up failed");
                }
                Some(ix.search(text, 5000)?)
            }
            _ => None,
        };
        let q = if ranked.is_some() { None } else { q };
        let candidates: Box<dyn Iterator<Item = OrderId>> = if let Some(r) = ranked {
            Box::new(r.into_iter())
        } else if let Some(p) = &phone {
            Box::new(orders::ids_for_phone(tx, p)?.into_iter())
        } else if let Some(u) = unit {
            Box::new(orders::ids_for_unit(tx, u)?.into_iter())
        } else if let Some(s) = state {
            Box::new(orders::ids_in_state(tx, s.code())?.into_iter())
        } else {
            Box::new(orders::ids_desc(tx, None, usize::MAX)?.into_iter())
        };
        let skip = (page as usize - 1) * per_page as usize;
        let mut total = 0usize;
        let mut items = Vec::new();
        for id in candidates {
            let Some(o) = orders::get(tx, id)? else {
                continue;
            };
            let ok = state.is_none_or(|s| o.state == s)
                && kind.is_none_or(|k| o.kind == k)
                && channel.is_none_or(|c| o.channel == c)
                && line.is_none_or(|l| o.line == l)
                && unit.is_none_or(|u| o.involves_unit(u))
                && phone.as_deref().is_none_or(|p| o.caller.phone == p)
                && from.is_none_or(|t| o.created_at >= t)
                && to.is_none_or(|t| o.created_at < t)
                && q.as_deref().is_none_or(|q| matches_text(&o, q))
                && !(actor.role == Role::Unit
                    && words
                        .as_deref()
                        .is_some_and(|w| privacy::query_touches_caller(&o, w)));
            if ok {
                if total >= skip && items.len() < per_page as usize {
                    items.push(o);
                }
                total += 1;
            }
        }
        Ok(ListPage {
            items,
            total,
            page,
            per_page,
        })
    })
}

/// Plain substring search over the texts people search by (number, title, content,
/// address, replies). The ranked full-text index replaces this later.
fn matches_text(o: &Order, q: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(q);
    has(&o.number)
        || has(&o.title)
        || has(&o.content)
        || o.address.detail.as_deref().is_some_and(has)
        || o.address.town.as_deref().is_some_and(has)
        || o.rounds
            .iter()
            .flat_map(|r| r.replies.iter())
            .any(|r| has(&r.result))
}

/// Everything the order page and `GET /orders/{id}` show, for this user. Records the view.
pub fn get_view(app: &App, actor: &Actor, id: OrderId) -> Result<view::View, AppError> {
    let now = app.now();
    let (order, cfg, units) = app.store.read(|tx| -> Result<_, AppError> {
        let o = load_visible(tx, actor, id)?;
        Ok((o, config(tx)?, unit_map(tx)?))
    })?;
    // Reading never depends on a write: on a full disk the view goes unlogged (and says so
    // in the server log) rather than the order unread.
    if let Err(e) = record_view(app, actor, id, "view", None) {
        tracing::warn!(order = id.0, error = %e, "view not recorded");
    }
    Ok(view::build(&order, actor, &cfg, &units, now))
}

/// One page of the order list as this user may see it.
pub struct ListViews {
    pub items: Vec<view::View>,
    pub total: usize,
    pub page: u32,
    pub per_page: u32,
}

/// The order list for a page or the API: each order as the user may see it.
pub fn list_views(app: &App, actor: &Actor, f: &ListFilter) -> Result<ListViews, AppError> {
    let p = list(app, actor, f)?;
    let (cfg, units) = app
        .store
        .read(|tx| -> Result<_, AppError> { Ok((config(tx)?, unit_map(tx)?)) })?;
    let now = app.now();
    // A list that shows callers counts as looking at them, like opening each order.
    let shown: Vec<OrderId> = p
        .items
        .iter()
        .filter(|o| privacy::shows_caller(o, privacy::Audience::of(actor)))
        .map(|o| o.id)
        .collect();
    if let Err(e) = record_views(app, actor, &shown, "list", None) {
        tracing::warn!(error = %e, "list views not recorded");
    }
    Ok(ListViews {
        items: p
            .items
            .iter()
            .map(|o| view::build(o, actor, &cfg, &units, now))
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    })
}

pub fn unit_map(
    tx: &impl Tx,
) -> Result<
    std::collections::HashMap<crate::domain::unit::UnitId, crate::domain::unit::Unit>,
    AppError,
> {
    Ok(crate::store::units::list(tx)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ViewRecord {
    pub at: Timestamp,
    pub user: u64,
    pub user_name: String,
    pub role: Role,
    /// `view` or `reveal`.
    pub kind: String,
    pub reason: Option<String>,
}

fn record_view(
    app: &App,
    actor: &Actor,
    id: OrderId,
    kind: &str,
    reason: Option<String>,
) -> Result<(), AppError> {
    record_views(app, actor, &[id], kind, reason)
}

/// Notes in each order's who-viewed log that `actor` saw its caller (`view`, `list` or
/// `reveal`), in one transaction.
fn record_views(
    app: &App,
    actor: &Actor,
    ids: &[OrderId],
    kind: &str,
    reason: Option<String>,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let rec = ViewRecord {
        at: app.now(),
        user: actor.id.0,
        user_name: actor.display_name.clone(),
        role: actor.role,
        kind: kind.to_string(),
        reason,
    };
    let bytes = serde_json::to_vec(&rec).map_err(|e| AppError::Internal(e.to_string()))?;
    app.store.write(|tx| -> Result<(), AppError> {
        for id in ids {
            orders::record_view(tx, *id, &bytes)?;
        }
        Ok(())
    })
}

/// The unmasked caller identity, for a stated reason; audited and logged on the order.
pub fn reveal(app: &App, actor: &Actor, id: OrderId, reason: &str) -> Result<Value, AppError> {
    actor.require(Permission::CallerReveal)?;
    let reason = reason.trim();
    if reason.chars().count() < 2 {
        return Err(AppError::invalid("reason", "请说明查看完整信息的理由"));
    }
    let o = app.store.read(|tx| load_visible(tx, actor, id))?;
    let now = app.now();
    record_view(app, actor, id, "reveal", Some(reason.to_string()))?;
    app.store.write(|tx| {
        audit::append(
            tx,
            now,
            actor.event(
                "order.reveal",
                Some(format!("order:{}", id.0)),
                format!("查看 {} 来电人完整信息，理由：{reason}", o.number),
            ),
        )
        .map(|_| ())
    })?;
    Ok(json!({
        "name": o.caller.name,
        "phone": o.caller.phone,
        "id_number": o.caller.id_number,
    }))
}

/// Who looked at the order's caller data, oldest first.
pub fn views(app: &App, actor: &Actor, id: OrderId) -> Result<Vec<ViewRecord>, AppError> {
    actor.require(Permission::ViewLogRead)?;
    app.store.read(|tx| -> Result<Vec<ViewRecord>, AppError> {
        load_visible(tx, actor, id)?;
        Ok(orders::views(tx, id)?
            .iter()
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect())
    })
}

/// Intake hints for the live form (no order yet).
pub fn live_hints(
    app: &App,
    actor: &Actor,
    phone: Option<&str>,
    content: &str,
    address: &Address,
) -> Result<Value, AppError> {
    actor.require(Permission::OrdersCreate)?;
    let now = app.now();
    app.store.read(|tx| -> Result<Value, AppError> {
        let cfg = config(tx)?;
        let phone = phone.and_then(normalize_phone);
        let warnings = hints(tx, &cfg, now, phone.as_deref(), content, address, None)?;
        let history: Vec<Value> = match &phone {
            Some(p) => orders::ids_for_phone(tx, p)?
                .into_iter()
                .take(20)
                .filter_map(|id| orders::get(tx, id).ok().flatten())
                .map(|o| {
                    let unit = o.current_round().map(|r| r.unit.0);
                    json!({"id": o.id.0, "number": o.number, "title": o.title, "state": o.state,
                           "state_label": o.state.label(), "created_at": o.created_at.display_cst(), "unit": unit})
                })
                .collect(),
            None => Vec::new(),
        };
        let today = now.cst_day();
        let articles: Vec<Value> = crate::service::knowledge::search_in(tx, content, &today, true, 3)?
            .into_iter()
            .filter(|(score, _)| *score >= 0.15)
            .map(|(_, a)| json!({"id": a.id, "version": a.version, "title": a.title, "body": a.body, "doc_no": a.doc_no}))
            .collect();
        Ok(json!({"phone_valid": phone.is_some(), "history": history, "warnings": warnings, "articles": articles}))
    })
}

/// A caller rings again about an order already registered: note it there instead of
/// registering a duplicate (作为重复来电追加).
pub fn repeat_call(app: &App, actor: &Actor, id: OrderId, note: &str) -> Result<Order, AppError> {
    actor.require(Permission::OrdersCreate)?;
    let note = note.trim();
    if note.chars().count() > 1000 {
        return Err(AppError::invalid("note", "说明不能超过 1000 个字"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<Order, AppError> {
        let old = load_visible(tx, actor, id)?;
        let mut o = old.clone();
        o.flags.repeat_calls += 1;
        o.version += 1;
        o.updated_at = now;
        let text = if note.is_empty() {
            format!("来电人再次来电（第 {} 次重复来电）", o.flags.repeat_calls)
        } else {
            format!(
                "来电人再次来电（第 {} 次重复来电）：{note}",
                o.flags.repeat_calls
            )
        };
        o.push_timeline(
            now,
            actor.id,
            &actor.display_name,
            actor.role,
            "repeat_call",
            text,
        );
        orders::put(tx, Some(&old), &o)?;
        audit::append(
            tx,
            now,
            actor.event(
                "order.repeat_call",
                Some(format!("order:{}", o.id.0)),
                format!("重复来电 {}", o.number),
            ),
        )?;
        Ok(o)
    })
}

/// Urges every overdue order of one unit at once (一键催办); returns how many.
pub fn urge_unit_overdue(
    app: &App,
    actor: &Actor,
    unit: crate::domain::unit::UnitId,
    note: &str,
) -> Result<usize, AppError> {
    actor.require(Permission::UrgeUnits)?;
    let note = if note.trim().is_empty() {
        "超期未办，请立即办理".to_string()
    } else {
        note.trim().to_string()
    };
    let now = app.now();
    let ids: Vec<OrderId> = app.store.read(|tx| -> Result<Vec<OrderId>, AppError> {
        let mut out = Vec::new();
        for id in orders::ids_for_unit(tx, unit)? {
            if let Some(o) = orders::get(tx, id)?
                && o.current_round().is_some_and(|r| r.unit == unit)
                && o.running_deadline().is_some_and(|d| now > d.due)
            {
                out.push(id);
            }
        }
        Ok(out)
    })?;
    let mut n = 0;
    for id in ids {
        actions::act(
            app,
            actor,
            id,
            crate::domain::order_state::Action::Urge,
            json!({"note": note}),
        )?;
        n += 1;
    }
    Ok(n)
}

/// Attaches a file to an order: typed by content, size-limited, stored once by hash.
pub fn attach(
    app: &App,
    actor: &Actor,
    id: OrderId,
    name: &str,
    bytes: &[u8],
) -> Result<crate::domain::attachment::AttachmentRef, AppError> {
    use crate::domain::attachment::{AttachmentRef, MAX_BYTES, MAX_PER_ORDER, clean_name, sniff};
    if bytes.is_empty() {
        return Err(AppError::invalid("file", "请选择要上传的文件"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(AppError::TooLarge);
    }
    let mime = sniff(bytes).ok_or_else(|| {
        AppError::invalid("file", "只能上传图片（JPG、PNG、GIF、WebP）或 PDF 文件")
    })?;
    let hash =
        crate::domain::audit::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    let now = app.now();
    app.store.write(|tx| -> Result<AttachmentRef, AppError> {
        let old = load_visible(tx, actor, id)?;
        if !old.state.is_open() && actor.role == Role::Unit {
            return Err(AppError::conflict(
                "wrong_state",
                "工单已办结，不能再上传附件",
            ));
        }
        if old.attachments.len() >= MAX_PER_ORDER {
            return Err(AppError::invalid(
                "file",
                format!("每件工单最多 {MAX_PER_ORDER} 个附件"),
            ));
        }
        crate::store::blobs::put(tx, &hash, bytes)?;
        let r = AttachmentRef {
            hash: hash.clone(),
            name: clean_name(name),
            mime: mime.to_string(),
            size: bytes.len() as u64,
            at: now,
            by: actor.display_name.clone(),
        };
        let mut o = old.clone();
        o.attachments.push(r.clone());
        o.version += 1;
        o.updated_at = now;
        o.push_timeline(
            now,
            actor.id,
            &actor.display_name,
            actor.role,
            "attach",
            format!("上传附件 {}", r.name),
        );
        orders::put(tx, Some(&old), &o)?;
        audit::append(
            tx,
            now,
            actor.event(
                "order.attach",
                Some(format!("order:{}", id.0)),
                format!("上传附件 {}", o.number),
            ),
        )?;
        Ok(r)
    })
}

/// An attachment's bytes, for someone who may see the order.
pub fn attachment(
    app: &App,
    actor: &Actor,
    id: OrderId,
    hash: &str,
) -> Result<(crate::domain::attachment::AttachmentRef, Vec<u8>), AppError> {
    app.store.read(|tx| -> Result<_, AppError> {
        let o = load_visible(tx, actor, id)?;
        let r = o
            .attachments
            .iter()
            .find(|a| a.hash == hash)
            .cloned()
            .ok_or(AppError::NotFound)?;
        let bytes = crate::store::blobs::get(tx, hash)?.ok_or(AppError::NotFound)?;
        Ok((r, bytes))
    })
}
