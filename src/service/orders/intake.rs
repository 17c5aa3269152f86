//! Registering an order (受理登记): the fields validated, a number given, hints attached.

use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::category::Categories;
use crate::domain::order::{
    Address, Caller, Channel, Deputy, Enterprise, Flags, Gender, Kind, Line, Order, OrderId,
    RiskTag, Urgency,
};
use crate::domain::order_state::{Action, State};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::domain::validate::{check_id_number, normalize_phone, valid_credit_code};
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, WriteTx, audit, orders};

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
    /// The phone system's id of the call it is registered during (the screen-pop's form
    /// carries it): the order keeps the call's id and talk time.
    #[serde(default)]
    pub call_id: Option<String>,
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
fn validate(
    new: &NewOrder,
    categories: &Categories,
    now: Timestamp,
    rejecting: bool,
) -> Result<Order, AppError> {
    let title = text("title", "标题", &new.title, 100, true)?;
    let content = text("content", "诉求内容", &new.content, 5000, true)?;
    let caller = caller(new, now, rejecting)?;
    let (enterprise, deputy) = line_extras(new)?;
    let category = match new
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => match categories.get(c) {
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
        caller,
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
        call: None,
        created_at: Timestamp(0),
        created_by: crate::domain::user::UserId(0),
        updated_at: Timestamp(0),
        closed_at: None,
    })
}

/// The caller as registered: name, phone (normalised), ID number (checked; required for
/// complaints and reports, except in a call rejected as out of scope at once).
fn caller(new: &NewOrder, now: Timestamp, rejecting: bool) -> Result<Caller, AppError> {
    let name = text("caller.name", "来电人姓名", &new.caller.name, 32, true)?;
    let phone = normalize_phone(&new.caller.phone)
        .ok_or_else(|| AppError::invalid("caller.phone", crate::domain::validate::PHONE_FORMAT))?;
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
    if matches!(new.kind, Kind::Complaint | Kind::Report) && id_number.is_none() && !rejecting {
        return Err(AppError::invalid(
            "caller.id_number",
            "投诉、举报须登记来电人身份证号码",
        ));
    }
    Ok(Caller {
        name,
        phone,
        id_number,
        gender: new.caller.gender,
        consent_phone: new.caller.consent_phone.unwrap_or(false),
        caller_type: opt_text("caller.type", "来电人类型", &new.caller.caller_type, 16)?,
    })
}

/// What the special lines require: the enterprise for 政企通, the deputy for 人大专席.
fn line_extras(new: &NewOrder) -> Result<(Option<Enterprise>, Option<Deputy>), AppError> {
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
    Ok((enterprise, deputy))
}

/// The registered order (or the one already registered under the same key) and its hints.
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

/// Registers an order. A known `(channel, external_id)` (or form token) returns the existing
/// order. Everything that only reads happens before the write — validation and the hints
/// from the full-text index and the order indexes — so the shared write transaction is short.
pub fn intake(app: &App, actor: &Actor, new: NewOrder) -> Result<IntakeResult, AppError> {
    intake_then(app, actor, new, None)
}

/// Registers an order and, in the same transaction, takes the desk's first action on it
/// (answer, dispatch, reject or merge): when the action is refused nothing is registered,
/// so the form comes back whole with the field in error named. A call rejected as out of
/// scope needs no ID number.
pub fn intake_then(
    app: &App,
    actor: &Actor,
    new: NewOrder,
    then: Option<(Action, Value)>,
) -> Result<IntakeResult, AppError> {
    actor.require(Permission::OrdersCreate)?;
    let rejecting = matches!(then, Some((Action::Reject, _)));
    if actor.channel.is_some_and(|c| c != new.channel) {
        return Err(AppError::invalid("channel", "接口令牌只能登记本渠道的工单"));
    }
    let now = app.now();
    let form_key = new
        .form_token
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 64)
        .map(|t| format!("form:{t}"));
    let (order, ext_key) = match prepare(app, &new, form_key.as_deref(), now, rejecting)? {
        Ok(v) => v,
        Err(found) => return Ok(found),
    };
    let warnings = warnings(app, actor, &order, now)?;
    let keys = Keys {
        form: form_key,
        external: ext_key,
        query_codes: (0..QUERY_CODE_TRIES)
            .map(|_| random_digits(6))
            .collect::<Result<_, _>>()?,
        call_id: new
            .call_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        day: now.cst_digits()[..8].to_string(),
        prefix: app.settings().number_prefix,
    };
    let actor = actor.clone();
    app.store
        .write_batched(move |tx| -> Result<IntakeResult, AppError> {
            let order = match register(tx, &actor, &order, &keys, now)? {
                Ok(order) => order,
                Err(found) => return Ok(found),
            };
            let order = match &then {
                Some((action, body)) => {
                    super::actions::act_in(tx, &actor, order.id, *action, body, now)?
                }
                None => order,
            };
            Ok(IntakeResult {
                order,
                warnings: warnings.clone(),
                created: true,
            })
        })
}

/// The validated order (or the one its key registered already) and its platform key.
fn prepare(
    app: &App,
    new: &NewOrder,
    form_key: Option<&str>,
    now: Timestamp,
    rejecting: bool,
) -> Result<Result<(Order, String), IntakeResult>, AppError> {
    app.store.read(|tx| {
        if let Some(k) = form_key
            && let Some(found) = existing(tx, k)?
        {
            return Ok(Err(found));
        }
        // The categories are all of the configuration registering reads.
        let categories: Categories = crate::store::meta::get(tx, "categories")?.unwrap_or_default();
        let order = validate(new, &categories, now, rejecting)?;
        let ext_key = order
            .external_id
            .as_ref()
            .map(|e| orders::external_key(order.channel.code(), e));
        if let Some(k) = &ext_key
            && let Some(found) = existing(tx, k)?
        {
            return Ok(Err(found));
        }
        Ok(Ok((order, ext_key.unwrap_or_default())))
    })
}

/// The hints shown with the registered order (what a platform may see of them only).
fn warnings(
    app: &App,
    actor: &Actor,
    order: &Order,
    now: Timestamp,
) -> Result<Vec<Value>, AppError> {
    // Emergency words count in the title as much as in the content.
    let words = format!("{} {}", order.title, order.content);
    let near = super::hints::similar(app, &words);
    let warnings = app.store.read(|tx| -> Result<Vec<Value>, AppError> {
        // The emergency words are all of the settings hints need.
        let emergency = crate::service::screening_settings::emergency_words(tx)?;
        super::hints(
            tx,
            &emergency,
            now,
            Some(&order.caller.phone),
            &words,
            &order.address,
            None,
            &near,
        )
    })?;
    Ok(match actor.channel {
        Some(c) => super::privacy::platform_warnings(warnings, c),
        None => warnings,
    })
}

/// What numbers and finds an order being registered.
struct Keys {
    form: Option<String>,
    external: String,
    /// Random 查询码 to choose from: the first that no order of the last year has.
    query_codes: Vec<String>,
    call_id: Option<String>,
    /// `YYYYMMDD` of registration, Beijing time.
    day: String,
    prefix: String,
}

/// Random 查询码 drawn for one order: with a million codes and a county's tens of thousands
/// of orders a year, eight draws all taken is one chance in ~10^13.
const QUERY_CODE_TRIES: usize = 8;

/// A 查询码 no order registered in the last year has (a code told to a caller finds their
/// order alone); the last draw when every one is taken.
fn free_query_code(tx: &WriteTx, codes: &[String], now: Timestamp) -> Result<String, AppError> {
    let year_ago = Timestamp(now.0.saturating_sub(366 * 86_400_000));
    for code in codes {
        let prefix = crate::domain::order_index::query_code_key(code);
        if super::index::within(tx, &prefix, year_ago, Timestamp(i64::MAX), 1)?.is_empty() {
            return Ok(code.clone());
        }
    }
    Ok(codes.last().cloned().unwrap_or_default())
}

/// The write: numbers the order and puts it with its audit entry — or finds the order that
/// another request with the same key registered meanwhile.
fn register(
    tx: &WriteTx,
    actor: &Actor,
    order: &Order,
    keys: &Keys,
    now: Timestamp,
) -> Result<Result<Order, IntakeResult>, AppError> {
    for k in [keys.form.as_deref(), Some(keys.external.as_str())]
        .into_iter()
        .flatten()
    {
        if !k.is_empty()
            && let Some(found) = existing(tx, k)?
        {
            return Ok(Err(found));
        }
    }
    let mut order = order.clone();
    let serial = orders::next_serial(tx, &keys.day)?;
    order.id = orders::next_id(tx)?;
    order.number = format!("{}{}{serial:05}", keys.prefix, keys.day);
    order.query_code = free_query_code(tx, &keys.query_codes, now)?;
    if let Some(call) = keys.call_id.as_deref() {
        if actor.channel.is_some() {
            return Err(AppError::invalid(
                "call_id",
                "接口令牌登记的工单没有来电记录",
            ));
        }
        crate::service::cti::link_in_intake(tx, call, &mut order)?;
    }
    order.created_at = now;
    order.created_by = actor.id;
    order.updated_at = now;
    let registered = crate::domain::order::Event::of(crate::domain::order::Params {
        kind: Some(order.kind),
        channel: Some(order.channel),
        ..Default::default()
    });
    order.push_timeline(
        now,
        actor.id,
        &actor.display_name,
        actor.role,
        "register",
        registered,
    );
    orders::put(tx, None, &order)?;
    if let Some(k) = &keys.form {
        orders::set_external(tx, k, order.id)?;
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
    Ok(Ok(order))
}
