//! Work orders: intake with validation and hints, reading (masked per role), lists.

pub mod actions;
mod hints;
pub mod index;
mod intake;
mod lists;
pub mod platform;
pub mod privacy;
pub mod queues;
pub mod view;
mod viewed;

pub use hints::{check_field, hints, live_hints};
pub use intake::{IntakeResult, NewCaller, NewOrder, intake, intake_then, parse_due};
pub use lists::{ListFilter, ListPage, ListViews, list, list_views, phone_tail_typed, views_of};
pub use viewed::{ViewRecord, flush_views, reveal, views};

use serde_json::json;

use super::{Actor, App};
use crate::domain::calendar::Calendar;
use crate::domain::category::Categories;
use crate::domain::intake::EmergencyWord;
use crate::domain::limits::Limits;
use crate::domain::order::{Event, Order, OrderId, Params};
use crate::domain::role::{Permission, Role};
use crate::error::AppError;
use crate::store::{Tx, audit, meta, orders};

/// The configuration orders are computed with, as the office has set it.
pub struct OrderConfig {
    pub calendar: Calendar,
    pub limits: Limits,
    pub categories: Categories,
    pub emergency: Vec<EmergencyWord>,
}

/// The category tree as the office keeps it.
pub fn categories(app: &App) -> Result<crate::domain::category::Categories, AppError> {
    app.store.read(|tx| Ok(config(tx)?.categories))
}

/// The order with this number, if the actor may see it (a number typed into a search box).
/// What a person types for an order number: the number itself in any case (`hd2026…`), or
/// without its prefix (`2026120100012`: the prefix in the settings is put before it).
/// `None` when the text is no order number.
pub fn typed_number(q: &str, prefix: &str) -> Option<String> {
    let q = q.trim().to_ascii_uppercase();
    let digits = q.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let letters = q.len() - digits.len();
    if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match letters {
        0 => Some(format!("{prefix}{digits}")),
        1..=8 => Some(q.clone()),
        _ => None,
    }
}

/// The order a typed number names (`typed_number`), if the actor may see it.
pub fn find_typed_number(app: &App, actor: &Actor, q: &str) -> Result<Option<OrderId>, AppError> {
    match typed_number(q, &app.settings().number_prefix) {
        Some(n) => find_by_number(app, actor, &n),
        None if crate::domain::order_index::is_query_code(q.trim()) => {
            find_by_query_code(app, actor, q.trim())
        }
        None => Ok(None),
    }
}

/// The order told this 查询码 (the newest, should a code older than a year repeat), for
/// staff who register calls; nobody else finds orders by a caller's code.
pub fn find_by_query_code(
    app: &App,
    actor: &Actor,
    code: &str,
) -> Result<Option<OrderId>, AppError> {
    if actor.channel.is_some() || !crate::domain::role::allows(actor.role, Permission::OrdersCreate)
    {
        return Ok(None);
    }
    app.store.read(|tx| -> Result<_, AppError> {
        let key = crate::domain::order_index::query_code_key(code);
        Ok(index::newest(tx, &key, 0, 1)?.into_iter().next())
    })
}

pub fn find_by_number(app: &App, actor: &Actor, number: &str) -> Result<Option<OrderId>, AppError> {
    app.store.read(|tx| -> Result<_, AppError> {
        match orders::id_by_number(tx, number.trim())? {
            Some(id) => Ok(load_visible(tx, actor, id).ok().map(|o| o.id)),
            None => Ok(None),
        }
    })
}

pub fn config(tx: &impl Tx) -> Result<OrderConfig, AppError> {
    Ok(OrderConfig {
        calendar: meta::get(tx, "calendar")?.unwrap_or_default(),
        limits: meta::get(tx, "limits")?.unwrap_or_default(),
        categories: meta::get(tx, "categories")?.unwrap_or_default(),
        emergency: crate::service::screening_settings::load(tx)?.emergency_words,
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

/// Everything the order page and `GET /orders/{id}` show, for this user. Records the view.
pub fn get_view(app: &App, actor: &Actor, id: OrderId) -> Result<view::View, AppError> {
    let now = app.now();
    let (order, cfg, units) = app.store.read(|tx| -> Result<_, AppError> {
        let o = load_visible(tx, actor, id)?;
        Ok((o, config(tx)?, unit_map(tx)?))
    })?;
    // Reading never depends on a write: on a full disk the view goes unlogged (and says so
    // in the server log) rather than the order unread.
    if let Err(e) = viewed::record_view(app, actor, id, "view", None) {
        tracing::warn!(order = id.0, error = %e, "view not recorded");
    }
    Ok(view::build(&order, actor, &cfg, &units, now))
}

/// Every unit by id (to name them in views).
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
        let event = Event::new(
            Params {
                count: Some(o.flags.repeat_calls),
                ..Params::default()
            },
            note,
        );
        o.push_timeline(
            now,
            actor.id,
            &actor.display_name,
            actor.role,
            "repeat_call",
            event,
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

/// Urges every overdue order of one unit at once (一键催办, at most 2,000 a list), in one
/// transaction; returns how many.
pub fn urge_unit_overdue(
    app: &App,
    actor: &Actor,
    unit_code: &str,
    note: &str,
) -> Result<usize, AppError> {
    actor.require(Permission::UrgeUnits)?;
    let unit = app.store.read(|tx| {
        crate::service::users::resolve_unit(
            tx,
            &crate::service::users::UnitRef::Code(unit_code.to_string()),
        )
    })?;
    let note = if note.trim().is_empty() {
        "超期未办，请立即办理".to_string()
    } else {
        note.trim().to_string()
    };
    let now = app.now();
    let body = json!({"note": note});
    // One form, one transaction: every overdue order of the unit is urged, or none is.
    app.store.write(|tx| -> Result<usize, AppError> {
        let ids = queues::unit_overdue(tx, unit, now)?;
        for id in &ids {
            actions::act_in(
                tx,
                actor,
                *id,
                crate::domain::order_state::Action::Urge,
                &body,
                now,
            )?;
        }
        Ok(ids.len())
    })
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
        // A unit adds material only while it holds the order.
        if actor.role == Role::Unit && !actor.unit.is_some_and(|u| privacy::holds_now(&old, u)) {
            return Err(AppError::Forbidden);
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
            Event::of(Params {
                file: Some(r.name.clone()),
                ..Params::default()
            }),
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
        let mut r = o
            .attachments
            .iter()
            .find(|a| a.hash == hash)
            .cloned()
            .ok_or(AppError::NotFound)?;
        // The same rules as the order's view: a unit gets only its own rounds' files (and
        // the registered material), and the file name as redacted as any other text.
        match privacy::Audience::of(actor) {
            privacy::Audience::Unit(u) => {
                if !u.is_some_and(|u| privacy::unit_sees_attachment(&o, u, r.at)) {
                    return Err(AppError::NotFound);
                }
                r.name = privacy::Redactor::for_role(&o, Role::Unit).apply(&r.name);
            }
            privacy::Audience::Staff(role) => {
                r.name = privacy::Redactor::for_role(&o, role).apply(&r.name);
            }
            privacy::Audience::Platform => return Err(AppError::NotFound),
        }
        let bytes = crate::store::blobs::get(tx, hash)?.ok_or(AppError::NotFound)?;
        Ok((r, bytes))
    })
}
