//! Order lists and search, as each user may see them.

use serde::Deserialize;

use super::{config, privacy, unit_map, view};
use crate::domain::order::{Channel, Kind, Line, Order, OrderId};
use crate::domain::order_state::State;
use crate::domain::role::{Permission, Role};
use crate::domain::time::Timestamp;
use crate::domain::validate::normalize_phone;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::orders;

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
            Some(u) => Some(crate::service::users::resolve_unit(
                tx,
                &crate::service::users::UnitRef::Code(u.to_string()),
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
                && match (actor.role, unit, words.as_deref()) {
                    (Role::Unit, Some(u), Some(w)) => privacy::unit_sees_words(&o, u, w),
                    _ => true,
                };
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
    if let Err(e) = super::viewed::record_views(app, actor, &shown, "list", None) {
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
