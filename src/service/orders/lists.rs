//! Order lists and search, as each user may see them.

use serde::Deserialize;

use super::index;
use super::{config, privacy, unit_map, view};
use crate::domain::order::{Channel, Kind, Line, Order, OrderId};
use crate::domain::order_index::{Facet, Key, Kind as IxKind};
use crate::domain::order_state::State;
use crate::domain::role::{Permission, Role};
use crate::domain::time::Timestamp;
use crate::domain::validate::normalize_phone;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, orders};

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
    /// A 查询码 (six digits) the caller was told.
    #[serde(default)]
    pub code: Option<String>,
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
    /// Order changes the full-text index has yet to take in, when words were searched and
    /// it is behind (being rebuilt): the results may be incomplete.
    pub search_behind: Option<u64>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Orders matching the filter, newest first, one page.
pub fn list(app: &App, actor: &Actor, f: &ListFilter) -> Result<ListPage, AppError> {
    actor.require(Permission::OrdersRead)?;
    let mut want = wanted(actor, f)?;
    let mut q = nonempty(&f.q).map(str::to_lowercase);
    // Six digits typed into the search box by staff are a 查询码 first: the order told that
    // code, when there is one (else the words are searched as usual).
    if want.code.is_none()
        && actor.role != Role::Unit
        && actor.channel.is_none()
        && let Some(c) = q
            .clone()
            .filter(|c| crate::domain::order_index::is_query_code(c))
    {
        let found = app
            .store
            .read(|tx| index::newest(tx, &crate::domain::order_index::query_code_key(&c), 0, 1))?;
        if !found.is_empty() {
            want.code = Some(c);
            q = None;
        }
    }
    let per_page = f.per_page.unwrap_or(50).clamp(1, 200);
    let page = f.page.unwrap_or(1).clamp(1, 100_000);
    let at = At {
        skip: (page as usize - 1) * per_page as usize,
        per_page: per_page as usize,
    };
    app.store.read(|tx| -> Result<ListPage, AppError> {
        want.unit = unit_filter(tx, actor, f)?;
        let mut search_behind = None;
        let (ids, total) = match (&q, app.search.get()) {
            // Words: the full-text index ranks, the filters and the unit's view narrow.
            (Some(text), Some(ix)) => {
                let (ids, total, behind) = search_ids(tx, ix, actor, &want, text, &at)?;
                search_behind = behind;
                (ids, total)
            }
            // No index (an offline tool): a plain scan, newest first.
            (Some(text), None) => scan_text(tx, &want, text, actor, at.skip, at.per_page)?,
            (None, _) => key_ids(tx, &want, &at)?,
        };
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(o) = orders::get(tx, id)? {
                items.push(o);
            }
        }
        Ok(ListPage {
            items,
            total,
            page,
            per_page,
            search_behind,
        })
    })
}

/// Which page of a list: orders passed over, and shown.
struct At {
    skip: usize,
    per_page: usize,
}

/// The filters asked for, checked (the unit is resolved inside the read, `unit_filter`).
fn wanted(actor: &Actor, f: &ListFilter) -> Result<Wanted, AppError> {
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
    // A whole number finds the caller's history; 4–10 digits that are no whole number are
    // the end of one (staff who remember only the last digits).
    let (phone, phone_tail) = match nonempty(&f.phone) {
        None => (None, None),
        Some(p) => match (normalize_phone(p), phone_tail_typed(p)) {
            (Some(n), _) => (Some(n), None),
            (None, Some(t)) => (None, Some(t)),
            (None, None) => (Some(p.to_string()), None),
        },
    };
    // The code is the caller's, told to them alone: a unit never looks orders up by it.
    let code = match nonempty(&f.code) {
        None => None,
        Some(_) if actor.role == Role::Unit => return Err(AppError::Forbidden),
        Some(c) if crate::domain::order_index::is_query_code(c) => Some(c.to_string()),
        Some(_) => return Err(AppError::invalid("code", "查询码为 6 位数字")),
    };
    let date = |field: &'static str, v: &Option<String>| -> Result<Option<Timestamp>, AppError> {
        match nonempty(v) {
            Some(s) => Timestamp::parse_cst_date(s).map(Some).ok_or_else(|| {
                AppError::invalid(field, "日期应为 YYYY-MM-DD 的真实日期（2000—2099 年）")
            }),
            None => Ok(None),
        }
    };
    Ok(Wanted {
        state,
        kind,
        channel,
        line,
        unit: None,
        phone,
        phone_tail,
        code,
        from: date("from", &f.from)?,
        to: date("to", &f.to)?,
    })
}

/// The end of a caller's number as typed: 4 to 10 digits (spaces and dashes left out).
pub fn phone_tail_typed(p: &str) -> Option<String> {
    let d: String = p
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
        .map(|c| match c {
            '０'..='９' => {
                char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
            }
            c => c,
        })
        .collect();
    ((4..=10).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())).then_some(d)
}

/// The unit filter: the one asked for, except that unit users see their own unit only,
/// whatever they ask for.
fn unit_filter(
    tx: &impl Tx,
    actor: &Actor,
    f: &ListFilter,
) -> Result<Option<crate::domain::unit::UnitId>, AppError> {
    if actor.role == Role::Unit {
        return Ok(actor.unit.or(Some(crate::domain::unit::UnitId(0))));
    }
    match nonempty(&f.unit) {
        Some(u) => Ok(Some(crate::service::users::resolve_unit(
            tx,
            &crate::service::users::UnitRef::Code(u.to_string()),
        )?)),
        None => Ok(None),
    }
}

/// A page of search hits within the filters, their total, and how far the index is behind.
fn search_ids(
    tx: &impl Tx,
    ix: &crate::search::SearchIndex,
    actor: &Actor,
    want: &Wanted,
    text: &str,
    at: &At,
) -> Result<(Vec<OrderId>, usize, Option<u64>), AppError> {
    // The background indexer takes in every change within moments: wait for the writes
    // just made (a rebuild far behind is said instead).
    let head = orders::last_change(tx)?;
    if head.saturating_sub(ix.watermark()) <= crate::search::CATCH_UP_SLICE as u64 {
        ix.wait_for(head, std::time::Duration::from_secs(2));
    }
    let behind = Some(head.saturating_sub(ix.watermark())).filter(|n| *n > 0);
    let audience = privacy::Audience::of(actor);
    let narrow = crate::search::Narrow {
        facets: want.facets(),
        from: want.from,
        to: want.to,
    };
    let (ids, total) = if want.phone.is_none()
        && want.phone_tail.is_none()
        && want.code.is_none()
        && matches!(audience, privacy::Audience::Staff(_))
    {
        // Staff: the index filters, pages and counts by itself.
        ix.search_page(text, &narrow, at.skip, at.per_page)?
    } else {
        let hits = Hits {
            audience,
            unit: want.unit,
            skip: at.skip,
            per_page: at.per_page,
        };
        ranked_hits(tx, ix, want, &narrow, text, &hits)?
    };
    Ok((ids, total, behind))
}

/// A page of a list without words: one key range (totals from the counters), or the
/// narrowest one checked row by row when more filters are set.
fn key_ids(tx: &impl Tx, want: &Wanted, at: &At) -> Result<(Vec<OrderId>, usize), AppError> {
    let (prefix, others) = want.narrowest(tx)?;
    if others {
        return filtered(tx, &prefix, want, at.skip, at.per_page);
    }
    let (from, to) = (want.from, want.to);
    let ids = index::between(tx, &prefix, from, to, at.skip, at.per_page)?;
    let total = if want.phone.is_some() {
        index::between(tx, &prefix, from, to, 0, usize::MAX)?.len() as u64
    } else {
        index::total_between(tx, &prefix, from, to)?
    };
    Ok((ids, usize::try_from(total).unwrap_or(usize::MAX)))
}

/// Who reads a search checked hit by hit, and which page.
struct Hits {
    audience: privacy::Audience,
    unit: Option<crate::domain::unit::UnitId>,
    skip: usize,
    per_page: usize,
}

/// Search hits within the filters, checked against the caller's number and, for units and
/// platforms, against the text they may read (so a count confirms nothing they may not
/// see), best first: at most `SEARCH_CAP` hits (the total is then a lower bound).
fn ranked_hits(
    tx: &impl Tx,
    ix: &crate::search::SearchIndex,
    want: &Wanted,
    narrow: &crate::search::Narrow,
    text: &str,
    h: &Hits,
) -> Result<(Vec<OrderId>, usize), AppError> {
    let mut ids = Vec::new();
    let mut total = 0;
    let staff = matches!(h.audience, privacy::Audience::Staff(_));
    let cap = if staff { SEARCH_CAP } else { SEARCH_CAP / 4 };
    for id in ix.search_in(text, narrow, cap)? {
        if !want.accepts_row(tx, id)? {
            continue;
        }
        if !staff {
            let Some(o) = orders::get(tx, id)? else {
                continue;
            };
            let seen = match (h.audience, h.unit) {
                (privacy::Audience::Unit(_), Some(u)) => privacy::unit_sees_words(&o, u, text),
                _ => privacy::platform_sees_words(&o, text),
            };
            if !seen {
                continue;
            }
        }
        if total >= h.skip && ids.len() < h.per_page {
            ids.push(id);
        }
        total += 1;
    }
    Ok((ids, total))
}

/// Search hits checked one by one, at most (a quarter of it for units and platforms, whose
/// hits are read whole).
const SEARCH_CAP: usize = 2000;

/// The filters of a list.
struct Wanted {
    state: Option<State>,
    kind: Option<Kind>,
    channel: Option<Channel>,
    line: Option<Line>,
    unit: Option<crate::domain::unit::UnitId>,
    phone: Option<String>,
    /// The last digits of a caller's number (4 to 10).
    phone_tail: Option<String>,
    /// A 查询码.
    code: Option<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

impl Wanted {
    /// The filter values that have lists of their own, and in pairs.
    fn facets(&self) -> Vec<Facet> {
        let mut v = Vec::new();
        v.extend(self.state.map(Facet::State));
        v.extend(self.kind.map(Facet::Kind));
        v.extend(self.channel.map(Facet::Channel));
        v.extend(self.line.map(Facet::Line));
        v.extend(self.unit.map(Facet::Unit));
        v
    }

    /// The list to read: one filter's, or two filters' at once; with more filters the pair
    /// with the fewest orders (from the counters), the rest checked row by row — which the
    /// second value says.
    fn narrowest(&self, tx: &impl Tx) -> Result<(Key, bool), AppError> {
        let facets = self.facets();
        if let Some(p) = self.phone.as_deref() {
            // A caller's history is short: it is always the narrowest.
            return Ok((Key::new(IxKind::ByPhone).str(p), !facets.is_empty()));
        }
        if let Some(c) = self.code.as_deref() {
            // A code is unique among a year's orders: a handful of keys at most.
            return Ok((crate::domain::order_index::query_code_key(c), true));
        }
        if let Some(t) = self.phone_tail.as_deref() {
            // One order in ten thousand shares the last four digits: read and checked
            // row by row (the digits before them, and the other filters).
            let four = &t[t.len().saturating_sub(4)..];
            return Ok((Key::new(IxKind::ByPhoneTail).str(four), true));
        }
        let mut pairs = Vec::new();
        for (i, a) in facets.iter().enumerate() {
            for b in &facets[i + 1..] {
                pairs.extend(Facet::pair(*a, *b));
            }
        }
        match (facets.as_slice(), pairs.len()) {
            ([], _) => Ok((Key::new(IxKind::Created), false)),
            ([one], _) => Ok((one.single(), false)),
            (_, 1) => Ok((pairs.remove(0), false)),
            _ => {
                let mut best: Option<(u64, Key)> = None;
                for k in pairs {
                    let n = index::total(tx, &k)?;
                    if best.as_ref().is_none_or(|(b, _)| n < *b) {
                        best = Some((n, k));
                    }
                }
                Ok((
                    best.map(|(_, k)| k)
                        .unwrap_or_else(|| Key::new(IxKind::Created)),
                    true,
                ))
            }
        }
    }

    /// Whether an order's list row passes every filter (the unit: it took part at all).
    fn accepts_row(&self, tx: &impl Tx, id: OrderId) -> Result<bool, AppError> {
        let Some(r) = orders::row(tx, id)? else {
            return Ok(false);
        };
        // Took part in any round: the unit's own filter key exists for the order.
        let unit_ok = match self.unit {
            None => true,
            Some(u) => orders::has_key(
                tx,
                &Key::new(IxKind::ByUnit)
                    .u64(u.0)
                    .time(r.created_at)
                    .u64(id.0)
                    .bytes(),
            )?,
        };
        let code_ok = match self.code.as_deref() {
            None => true,
            Some(c) => orders::has_key(
                tx,
                &crate::domain::order_index::query_code_key(c)
                    .time(r.created_at)
                    .u64(id.0)
                    .bytes(),
            )?,
        };
        Ok(code_ok
            && self.state.is_none_or(|s| r.state == s)
            && self.kind.is_none_or(|k| r.kind == k)
            && self.channel.is_none_or(|c| r.channel == c)
            && self.line.is_none_or(|l| r.line == l)
            && self.from.is_none_or(|t| r.created_at >= t)
            && self.to.is_none_or(|t| r.created_at < t)
            && self.phone.as_deref().is_none_or(|p| r.caller_phone == p)
            && self
                .phone_tail
                .as_deref()
                .is_none_or(|t| r.caller_phone.ends_with(t))
            && unit_ok)
    }
}

/// Rows beyond the first filter are checked one by one, at most this many: the total is
/// then a lower bound (a list that broad is narrowed by its user).
const ROW_SCAN_CAP: usize = 20_000;

/// A list with several filters: the narrowest filter's range, each row checked.
fn filtered(
    tx: &impl Tx,
    prefix: &Key,
    want: &Wanted,
    skip: usize,
    per_page: usize,
) -> Result<(Vec<OrderId>, usize), AppError> {
    let mut ids = Vec::new();
    let mut total = 0;
    let candidates = index::between(tx, prefix, want.from, want.to, 0, ROW_SCAN_CAP)?;
    for id in candidates {
        if want.accepts_row(tx, id)? {
            if total >= skip && ids.len() < per_page {
                ids.push(id);
            }
            total += 1;
        }
    }
    Ok((ids, total))
}

/// Words without the full-text index (offline tools): newest orders scanned, bounded.
fn scan_text(
    tx: &impl Tx,
    want: &Wanted,
    q: &str,
    actor: &Actor,
    skip: usize,
    per_page: usize,
) -> Result<(Vec<OrderId>, usize), AppError> {
    let (prefix, _) = want.narrowest(tx)?;
    let mut ids = Vec::new();
    let mut total = 0;
    for id in index::between(tx, &prefix, want.from, want.to, 0, ROW_SCAN_CAP)? {
        if !want.accepts_row(tx, id)? {
            continue;
        }
        let Some(o) = orders::get(tx, id)? else {
            continue;
        };
        let seen = match (privacy::Audience::of(actor), want.unit) {
            (privacy::Audience::Unit(_), Some(u)) => privacy::unit_sees_words(&o, u, q),
            (privacy::Audience::Platform, _) => privacy::platform_sees_words(&o, q),
            _ => matches_text(&o, q),
        };
        if seen {
            if total >= skip && ids.len() < per_page {
                ids.push(id);
            }
            total += 1;
        }
    }
    Ok((ids, total))
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
    pub search_behind: Option<u64>,
}

/// The order list for a page or the API: each order as the user may see it.
pub fn list_views(app: &App, actor: &Actor, f: &ListFilter) -> Result<ListViews, AppError> {
    let p = list(app, actor, f)?;
    Ok(ListViews {
        items: views(app, actor, &p.items)?,
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        search_behind: p.search_behind,
    })
}

/// Orders by id (a report's list of the orders behind a figure), each as the user may see
/// it; ids the user may not read are left out.
pub fn views_of(app: &App, actor: &Actor, ids: &[OrderId]) -> Result<Vec<view::View>, AppError> {
    actor.require(Permission::OrdersRead)?;
    let found = app.store.read(|tx| -> Result<Vec<Order>, AppError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match super::load_visible(tx, actor, *id) {
                Ok(o) => out.push(o),
                Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    })?;
    views(app, actor, &found)
}

fn views(app: &App, actor: &Actor, items: &[Order]) -> Result<Vec<view::View>, AppError> {
    let (cfg, units) = app
        .store
        .read(|tx| -> Result<_, AppError> { Ok((config(tx)?, unit_map(tx)?)) })?;
    let now = app.now();
    // A list that shows callers counts as looking at them, like opening each order.
    let shown: Vec<OrderId> = items
        .iter()
        .filter(|o| privacy::shows_caller(o, privacy::Audience::of(actor)))
        .map(|o| o.id)
        .collect();
    if let Err(e) = super::viewed::record_views(app, actor, &shown, "list", None) {
        tracing::warn!(error = %e, "list views not recorded");
    }
    Ok(items
        .iter()
        .map(|o| view::build(o, actor, &cfg, &units, now))
        .collect())
}
