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
