//! An order as a given user may see it: caller data masked per role (SPEC §3, decided in
//! `privacy`), deadlines with the time left, and the actions this user may take now.

use std::collections::HashMap;

use serde::Serialize;

use super::OrderConfig;
use super::privacy::{self, Audience, Redactor, UnitNote};
use crate::domain::calendar::{Calendar, Deadline, DueState};
use crate::domain::order::{Address, Deputy, Enterprise, Order, Round};
use crate::domain::order_state::{State, allowed_actions};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::{Unit, UnitId};
use crate::domain::validate::{mask_id, mask_name, mask_phone};
use crate::error::AppError;
use crate::service::Actor;

mod audiences;
mod parts;

use audiences::{staff_view, unit_view};
pub use parts::{due_view, left_text};

#[derive(Serialize, Default)]
pub struct CallerView {
    /// A confidential order hides the caller from the unit entirely.
    pub hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub phone_masked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<&'static str>,
    pub consent_phone: bool,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub caller_type: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct UnitBrief {
    pub id: u64,
    pub code: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct DueView {
    pub kind: &'static str,
    pub due: String,
    pub due_display: String,
    pub state: DueState,
    /// 剩 2 个工作日 / 已超期 5 小时.
    pub left: String,
    /// Since the deadline's clock started (for a callback: since the reply was approved).
    pub waited: String,
}

#[derive(Serialize)]
pub struct RoundView {
    pub no: u32,
    pub unit: UnitBrief,
    pub co_units: Vec<UnitBrief>,
    pub dispatched_at: String,
    pub sign_due: String,
    pub handle_due: Option<String>,
    pub signed_at: Option<String>,
    pub extensions: Vec<serde_json::Value>,
    pub returns: Vec<serde_json::Value>,
    pub replies: Vec<serde_json::Value>,
    pub progress: Vec<serde_json::Value>,
    pub urges: u32,
    /// The co-units' parts: signed when, due when, their opinions for the main unit.
    pub co_parts: Vec<serde_json::Value>,
}

/// One timeline entry: the action code, its parameters ready to show (ids as names, times as
/// text; the template makes the sentence) and the user's words.
#[derive(Serialize)]
pub struct TimelineView {
    pub at: String,
    pub at_display: String,
    pub user: String,
    pub role: Role,
    pub action: String,
    pub p: EventView,
    pub note: String,
}

/// `Params` for the eye: only what the entry has is sent.
#[derive(Serialize, Default)]
pub struct EventView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitBrief>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub co_units: Vec<UnitBrief>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approve: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub on_behalf: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
}

/// The order's flags; merge links only for the centre's staff.
#[derive(Serialize)]
pub struct FlagsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervised: Option<String>,
    pub reopen_count: u32,
    pub urge_count: u32,
    pub repeat_calls: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<u64>,
    /// A merged order whose caller awaits a callback (staff only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub callback_pending: bool,
    /// QA's proposal to reopen, awaiting the shift lead (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reopen_proposal: Option<serde_json::Value>,
}

/// The phone call an order was registered during (staff only): to find the recording.
#[derive(Serialize)]
pub struct CallView {
    pub call_id: String,
    pub seat: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talk_secs: Option<u32>,
    /// 通话时长 as read, or empty while the call goes on.
    pub talk_label: String,
}

impl CallView {
    pub fn of(c: &crate::domain::call::CallLink) -> CallView {
        CallView {
            call_id: c.call_id.clone(),
            seat: c.seat,
            talk_secs: c.talk_secs,
            talk_label: c
                .talk_secs
                .map(crate::domain::call::talk_label)
                .unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
pub struct OrderView {
    pub id: u64,
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_code: Option<String>,
    /// The call it was registered during (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<CallView>,
    pub version: u64,
    pub state: State,
    pub state_label: &'static str,
    pub channel: &'static str,
    pub channel_label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_due: Option<String>,
    pub line: &'static str,
    pub line_label: &'static str,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub urgency: &'static str,
    pub urgency_label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_path: Option<String>,
    pub title: String,
    pub content: String,
    pub caller: CallerView,
    pub confidential: bool,
    pub address: Address,
    pub risk_tags: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<Enterprise>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deputy: Option<Deputy>,
    pub rounds: Vec<RoundView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<serde_json::Value>,
    pub timeline: Vec<TimelineView>,
    pub flags: FlagsView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_code: Option<u8>,
    /// Code 3: the emergency number that took the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_transfer: Option<String>,
    /// What the caller was told at the rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_told: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// A merged order: the master's reply its caller is told (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_reply: Option<String>,
    /// Knowledge articles the direct answer cited, with the version used.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cited: Vec<(u64, u32)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closure: Option<crate::domain::order::ClosureKind>,
    pub created_at: String,
    pub created_display: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<DueView>,
    pub actions: Vec<&'static str>,
    /// Unreachable callback attempts in the current round (the third moves on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_attempts: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_if_granted: Option<String>,
    pub attachments: Vec<crate::domain::attachment::AttachmentRef>,
    /// For a unit whose part is over (returned, redispatched): it sees only its own rounds.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub part_ended: bool,
}

/// An order as one audience reads it.
#[derive(Serialize)]
#[serde(untagged)]
pub enum View {
    Order(Box<OrderView>),
    Platform(Box<super::platform::PlatformView>),
}

impl View {
    /// The page form of the view (pages are never shown to platforms).
    pub fn into_order(self) -> Result<OrderView, AppError> {
        match self {
            View::Order(v) => Ok(*v),
            View::Platform(_) => Err(AppError::Forbidden),
        }
    }
}

/// The order without what a list row never shows (content, timeline, callbacks,
/// attachments, answers), for the work lists of the home pages: the view built from it
/// goes through the same audience and privacy code as the whole order's, with less to
/// redact and to render.
pub fn brief(mut o: Order) -> Order {
    o.content = String::new();
    o.timeline = Vec::new();
    o.callbacks = Vec::new();
    o.attachments = Vec::new();
    o.answer = None;
    o.merged_reply = None;
    for r in &mut o.rounds {
        r.progress = Vec::new();
    }
    o
}

/// The order as `actor` may see it.
pub fn build(
    o: &Order,
    actor: &Actor,
    cfg: &OrderConfig,
    units: &HashMap<UnitId, Unit>,
    now: Timestamp,
) -> View {
    match Audience::of(actor) {
        Audience::Platform => View::Platform(Box::new(super::platform::view(o))),
        Audience::Unit(unit) => View::Order(Box::new(unit_view(o, actor, unit, cfg, units, now))),
        Audience::Staff(role) => View::Order(Box::new(staff_view(o, actor, role, cfg, units, now))),
    }
}
