//! What a platform's integration token reads of an order of its channel: where it stands
//! and the public reply, never caller data or the centre's internal notes.

use serde::Serialize;

use crate::domain::order::Order;
use crate::domain::order_state::State;

/// What a platform's token may read of an order from its channel: where it stands and the
/// public reply, never the centre's internal notes or the caller's data.
#[derive(Serialize)]
pub struct PlatformView {
    pub id: u64,
    pub number: String,
    pub query_code: String,
    pub state: State,
    pub state_label: &'static str,
    pub channel: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub kind: &'static str,
    pub title: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// The reply the caller may be told: a direct answer or the approved public reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_code: Option<u8>,
    /// State changes, without names or notes.
    pub events: Vec<PlatformEvent>,
}

#[derive(Serialize)]
pub struct PlatformEvent {
    pub at: String,
    pub action: String,
}

/// The public reply of an order, if it has one to tell.
pub fn public_reply(o: &Order) -> Option<String> {
    if o.closure == Some(crate::domain::order::ClosureKind::Direct) {
        return o.answer.clone();
    }
    o.rounds
        .iter()
        .rev()
        .flat_map(|r| r.replies.iter().rev())
        .find(|r| r.approved == Some(true))
        .and_then(|r| r.public_reply.clone())
}

pub fn view(o: &Order) -> PlatformView {
    // Only the milestones a platform reports back; no names, no notes.
    let milestone = |a: &str| {
        matches!(
            a,
            "register"
                | "reject"
                | "answer"
                | "dispatch"
                | "sign"
                | "reply"
                | "review_reply"
                | "callback"
                | "reopen"
                | "close"
                | "merge"
                | "withdraw"
        )
    };
    PlatformView {
        id: o.id.0,
        number: o.number.clone(),
        query_code: o.query_code.clone(),
        state: o.state,
        state_label: o.state.label(),
        channel: o.channel.code(),
        external_id: o.external_id.clone(),
        kind: o.kind.code(),
        title: o.title.clone(),
        created_at: o.created_at.rfc3339_cst(),
        closed_at: o.closed_at.map(|t| t.rfc3339_cst()),
        public_reply: public_reply(o),
        reject_code: o.reject_code,
        events: o
            .timeline
            .iter()
            .filter(|t| milestone(&t.action))
            .map(|t| PlatformEvent {
                at: t.at.rfc3339_cst(),
                action: t.action.clone(),
            })
            .collect(),
    }
}

/// What anyone holding a 查询码 may be told of the order: where it stands and the public
/// reply — no title, no content, no caller, no unit's notes.
#[derive(Serialize)]
pub struct CodeStatus {
    pub number: String,
    pub state: State,
    pub state_label: &'static str,
    /// `open` or `closed` (closed: finished, rejected, merged or withdrawn).
    pub status: &'static str,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_reply: Option<String>,
    /// Why it was not accepted (不予受理), by the reason's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
}

#[derive(Serialize)]
pub struct Lookup {
    pub query_code: String,
    pub items: Vec<CodeStatus>,
    pub total: usize,
}

/// Lookups a token may make a minute, and a signed-in user.
const LOOKUPS_PER_MINUTE_TOKEN: usize = 120;
const LOOKUPS_PER_MINUTE_USER: usize = 30;

/// Whether an order's matter is over, as a platform counts it.
pub fn is_closed(s: State) -> bool {
    matches!(
        s,
        State::Closed | State::Rejected | State::Merged | State::Withdrawn
    )
}

pub fn code_status(o: &Order) -> CodeStatus {
    CodeStatus {
        number: o.number.clone(),
        state: o.state,
        state_label: o.state.label(),
        status: if is_closed(o.state) { "closed" } else { "open" },
        created_at: o.created_at.rfc3339_cst(),
        closed_at: o.closed_at.map(|t| t.rfc3339_cst()),
        public_reply: public_reply(o),
        reject_reason: (o.state == State::Rejected)
            .then(|| o.reject_code.map(crate::domain::exclusion::label))
            .flatten()
            .map(str::to_string),
    }
}

/// The orders told `code` (normally one: a code is unique among a year's orders), newest
/// first: for a platform's token (the caller may have called by phone and asks online) and
/// for staff who register calls. Rate-limited: a six-digit code can be guessed at.
pub fn lookup(
    app: &crate::service::App,
    actor: &crate::service::Actor,
    code: &str,
) -> Result<Lookup, crate::error::AppError> {
    use crate::error::AppError;
    if actor.channel.is_none() {
        actor.require(crate::domain::role::Permission::OrdersCreate)?;
    }
    let code = code.trim();
    if !crate::domain::order_index::is_query_code(code) {
        return Err(AppError::invalid("query_code", "查询码为 6 位数字"));
    }
    let per_minute = if actor.channel.is_some() {
        LOOKUPS_PER_MINUTE_TOKEN
    } else {
        LOOKUPS_PER_MINUTE_USER
    };
    app.lookups
        .take(&actor.username, per_minute, app.now())
        .map_err(|retry_after| AppError::Throttled { retry_after })?;
    let prefix = crate::domain::order_index::query_code_key(code);
    app.store.read(|tx| {
        let ids = super::index::newest(tx, &prefix, 0, 5)?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(o) = crate::store::orders::get(tx, id)? {
                items.push(code_status(&o));
            }
        }
        if items.is_empty() {
            return Err(AppError::NotFound);
        }
        Ok(Lookup {
            query_code: code.to_string(),
            total: items.len(),
            items,
        })
    })
}
