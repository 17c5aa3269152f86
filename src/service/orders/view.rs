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

#[derive(Serialize)]
pub struct TimelineView {
    pub at: String,
    pub at_display: String,
    pub user: String,
    pub role: Role,
    pub action: String,
    pub note: String,
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

#[derive(Serialize)]
pub struct OrderView {
    pub id: u64,
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_code: Option<String>,
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

/// Remaining time in words, in working time for working-day limits.
pub fn left_text(cal: &Calendar, now: Timestamp, due: Timestamp) -> String {
    if now > due {
        let mins = (now.secs().saturating_sub(due.secs())) / 60;
        return if mins >= 24 * 60 {
            format!("已超期 {} 天", mins / (24 * 60))
        } else if mins >= 60 {
            format!("已超期 {} 小时", mins / 60)
        } else {
            format!("已超期 {} 分钟", mins.max(1))
        };
    }
    let days = cal.working_days_between(now, due);
    if days >= 1.0 {
        format!("剩 {} 个工作日", days.floor() as i64)
    } else {
        let mins = (due.secs().saturating_sub(now.secs())) / 60;
        if mins >= 60 {
            format!("剩 {} 小时 {} 分", mins / 60, mins % 60)
        } else {
            format!("剩 {mins} 分钟")
        }
    }
}

pub fn due_view(cal: &Calendar, now: Timestamp, kind: &'static str, d: Deadline) -> DueView {
    DueView {
        kind,
        due: d.due.rfc3339_cst(),
        due_display: d.due.display_cst(),
        state: d.state(now),
        left: left_text(cal, now, d.due),
    }
}

fn caller_view(o: &Order, role: Role) -> CallerView {
    let c = &o.caller;
    let gender = c.gender.map(|g| g.label());
    match role {
        Role::Unit if o.confidential => CallerView {
            hidden: true,
            ..CallerView::default()
        },
        Role::Unit => CallerView {
            hidden: false,
            name: Some(mask_name(&c.name)),
            phone: c.consent_phone.then(|| c.phone.clone()),
            phone_masked: false,
            id_number: None,
            gender,
            consent_phone: c.consent_phone,
            caller_type: c.caller_type.clone(),
        },
        Role::Operator | Role::ShiftLead | Role::Qa => CallerView {
            hidden: false,
            name: Some(c.name.clone()),
            phone: Some(c.phone.clone()),
            phone_masked: false,
            id_number: c.id_number.as_deref().map(mask_id),
            gender,
            consent_phone: c.consent_phone,
            caller_type: c.caller_type.clone(),
        },
        Role::Supervisor | Role::Admin => CallerView {
            hidden: false,
            name: Some(c.name.clone()),
            phone: Some(mask_phone(&c.phone)),
            phone_masked: true,
            id_number: c.id_number.as_deref().map(mask_id),
            gender,
            consent_phone: c.consent_phone,
            caller_type: c.caller_type.clone(),
        },
    }
}

fn brief(units: &HashMap<UnitId, Unit>, id: UnitId) -> UnitBrief {
    match units.get(&id) {
        Some(u) => UnitBrief {
            id: id.0,
            code: u.code.clone(),
            name: u.name.clone(),
        },
        None => UnitBrief {
            id: id.0,
            code: String::new(),
            name: format!("单位 {}", id.0),
        },
    }
}

/// Free text as the audience may read it (units get it redacted).
type Text<'a> = &'a dyn Fn(&str) -> String;

fn round_view(
    r: &Round,
    units: &HashMap<UnitId, Unit>,
    names: &dyn Fn(u64) -> String,
    text: Text,
) -> RoundView {
    use serde_json::json;
    let opt = |v: &Option<String>| v.as_deref().map(text);
    RoundView {
        no: r.no,
        unit: brief(units, r.unit),
        co_units: r.co_units.iter().map(|u| brief(units, *u)).collect(),
        dispatched_at: r.dispatched_at.rfc3339_cst(),
        sign_due: r.sign.due.rfc3339_cst(),
        handle_due: r.handle.map(|h| h.due.rfc3339_cst()),
        signed_at: r.signed_at.map(|t| t.rfc3339_cst()),
        extensions: r
            .extensions
            .iter()
            .map(|e| json!({"days": e.days, "reason": text(&e.reason), "requested_at": e.requested_at.rfc3339_cst(), "approved": e.approved, "note": opt(&e.note)}))
            .collect(),
        returns: r
            .returns
            .iter()
            .map(|x| json!({"reason": text(&x.reason), "basis": opt(&x.basis), "at": x.at.rfc3339_cst(), "approved": x.approved, "note": opt(&x.note)}))
            .collect(),
        replies: r
            .replies
            .iter()
            .map(|x| json!({
                "result": text(&x.result), "resolved": x.resolved, "contacted": x.contact.contacted,
                "contacted_at": opt(&x.contact.at), "contact_method": opt(&x.contact.how),
                "public_reply": opt(&x.public_reply), "at": x.at.rfc3339_cst(), "by": names(x.by.0),
                "on_behalf": x.on_behalf, "approved": x.approved, "review_note": opt(&x.review_note),
            }))
            .collect(),
        progress: r
            .progress
            .iter()
            .map(|(at, by, note)| json!({"at": at.rfc3339_cst(), "by": names(by.0), "note": text(note)}))
            .collect(),
        urges: r.urges,
        co_parts: r
            .co_units
            .iter()
            .map(|u| {
                let part = r.co_part(*u);
                json!({
                    "unit": brief(units, *u),
                    "signed_at": part.and_then(|p| p.signed_at).map(|t| t.rfc3339_cst()),
                    "due": part.and_then(|p| p.due).map(|d| d.due.rfc3339_cst()),
                    "opinions": part.map(|p| p.opinions.iter().map(|o| json!({
                        "at": o.at.rfc3339_cst(), "by": names(o.by.0), "text": text(&o.text),
                    })).collect::<Vec<_>>()).unwrap_or_default(),
                })
            })
            .collect(),
    }
}

/// The deadline running now: signing, handling, or the callback (also of a merged order).
fn running_due(o: &Order, cfg: &OrderConfig, now: Timestamp) -> Option<DueView> {
    match o.state {
        State::Dispatched => o
            .current_round()
            .map(|r| due_view(&cfg.calendar, now, "sign", r.sign)),
        State::InProgress => o
            .current_round()
            .and_then(|r| r.handle)
            .map(|h| due_view(&cfg.calendar, now, "handle", h)),
        State::CallbackPending => o
            .callback_due
            .map(|d| due_view(&cfg.calendar, now, "callback", d)),
        State::Merged if o.flags.callback_pending => o
            .callback_due
            .map(|d| due_view(&cfg.calendar, now, "callback", d)),
        _ => None,
    }
}

/// A unit's own running deadline: the main unit's signing or handling, a co-unit's signing
/// or opinion.
fn unit_due(o: &Order, unit: UnitId, cfg: &OrderConfig, now: Timestamp) -> Option<DueView> {
    let r = o.current_round()?;
    if r.unit == unit {
        return match o.state {
            State::Dispatched | State::InProgress => running_due(o, cfg, now),
            _ => None,
        };
    }
    if !o.state.is_open() || !matches!(o.state, State::Dispatched | State::InProgress) {
        return None;
    }
    let d = r.co_deadline(unit)?;
    let kind = if r.co_part(unit).is_some_and(|p| p.signed_at.is_some()) {
        "co_opinion"
    } else {
        "sign"
    };
    Some(due_view(&cfg.calendar, now, kind, d))
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

fn names_of(o: &Order) -> impl Fn(u64) -> String + '_ {
    |id: u64| {
        o.timeline
            .iter()
            .find(|t| t.user.0 == id)
            .map(|t| t.user_name.clone())
            .unwrap_or_default()
    }
}

fn actions_for(o: &Order, actor: &Actor, cfg: &OrderConfig, now: Timestamp) -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = allowed_actions(o.state, actor.role)
        .into_iter()
        .filter(|a| super::actions::applies(o, actor, *a, cfg, now))
        .map(|a| a.code())
        .collect();
    actions.dedup();
    actions
}

fn timeline_view(t: &crate::domain::order::TimelineEntry, note: String) -> TimelineView {
    TimelineView {
        at: t.at.rfc3339_cst(),
        at_display: t.at.display_cst(),
        user: t.user_name.clone(),
        role: t.role,
        action: t.action.clone(),
        note,
    }
}

fn staff_view(
    o: &Order,
    actor: &Actor,
    role: Role,
    cfg: &OrderConfig,
    units: &HashMap<UnitId, Unit>,
    now: Timestamp,
) -> OrderView {
    let names = names_of(o);
    let red = Redactor::for_role(o, role);
    let text = |s: &str| red.apply(s);
    OrderView {
        id: o.id.0,
        number: o.number.clone(),
        query_code: Some(o.query_code.clone()),
        version: o.version,
        state: o.state,
        state_label: o.state.label(),
        channel: o.channel.code(),
        channel_label: o.channel.label(),
        external_id: o.external_id.clone(),
        external_due: o.external_due.map(|t| t.rfc3339_cst()),
        line: o.line.code(),
        line_label: o.line.label(),
        kind: o.kind.code(),
        kind_label: o.kind.label(),
        urgency: o.urgency.code(),
        urgency_label: o.urgency.label(),
        category: o.category.clone(),
        category_path: o.category.as_deref().map(|c| cfg.categories.path(c)),
        title: text(&o.title),
        content: text(&o.content),
        caller: caller_view(o, role),
        confidential: o.confidential,
        address: Address {
            town: o.address.town.clone(),
            village: o.address.village.clone(),
            detail: red.opt(&o.address.detail),
        },
        risk_tags: o.risk_tags.iter().map(|t| t.label()).collect(),
        enterprise: o.enterprise.clone(),
        deputy: o.deputy.clone(),
        rounds: o
            .rounds
            .iter()
            .map(|r| round_view(r, units, &names, &text))
            .collect(),
        callbacks: o
            .callbacks
            .iter()
            .map(|c| serde_json::json!({"satisfaction": c.satisfaction, "resolved": c.resolved, "note": red.opt(&c.note), "at": c.at.rfc3339_cst(), "round": c.round}))
            .collect(),
        timeline: o
            .timeline
            .iter()
            .map(|t| timeline_view(t, red.apply(&t.note)))
            .collect(),
        flags: FlagsView {
            supervised: o.flags.supervised.clone(),
            reopen_count: o.flags.reopen_count,
            urge_count: o.flags.urge_count,
            repeat_calls: o.flags.repeat_calls,
            merged_into: o.flags.merged_into.map(|i| i.0),
            merged_from: o.flags.merged_from.iter().map(|i| i.0).collect(),
            callback_pending: o.flags.callback_pending,
            reopen_proposal: o.flags.reopen_proposal.as_ref().map(|p| {
                serde_json::json!({"reason": red.apply(&p.reason), "by": p.by_name, "at": p.at.rfc3339_cst()})
            }),
        },
        reject_code: o.reject_code,
        reject_transfer: o.reject_transfer.clone(),
        reject_told: o.reject_told.clone(),
        answer: red.opt(&o.answer),
        merged_reply: red.opt(&o.merged_reply),
        cited: o.cited.clone(),
        closure: o.closure,
        created_at: o.created_at.rfc3339_cst(),
        created_display: o.created_at.display_cst(),
        updated_at: o.updated_at.rfc3339_cst(),
        closed_at: o.closed_at.map(|t| t.rfc3339_cst()),
        due: running_due(o, cfg, now),
        actions: actions_for(o, actor, cfg, now),
        callback_attempts: Some(o.callback_attempts()),
        attachments: o.attachments.clone(),
        part_ended: false,
    }
}

/// A unit's view: its own rounds and their timeline, the caller masked or hidden, every
/// free text redacted. Built field by field rather than from the staff view on purpose: a
/// field added to orders later reaches a unit only when it is written here. A unit that never held a round of the order gets nothing (the
/// caller of `build` has refused it already; this stays safe regardless).
fn unit_view(
    o: &Order,
    actor: &Actor,
    unit: Option<UnitId>,
    cfg: &OrderConfig,
    units: &HashMap<UnitId, Unit>,
    now: Timestamp,
) -> OrderView {
    let mine: Vec<usize> = unit.map(|u| privacy::unit_rounds(o, u)).unwrap_or_default();
    let holds = unit.is_some_and(|u| privacy::holds_now(o, u));
    let red = Redactor::for_role(o, Role::Unit);
    let text = |s: &str| red.apply(s);
    let names = names_of(o);
    let round_of = privacy::timeline_rounds(o);
    let visible_round = |n: Option<u32>| match n {
        Some(0) => true,
        Some(n) => mine.contains(&(n as usize - 1)),
        None => false,
    };
    let timeline = o
        .timeline
        .iter()
        .zip(round_of)
        .filter(|(_, n)| visible_round(*n))
        .filter_map(|(t, _)| match privacy::unit_note(&t.action) {
            UnitNote::Full => Some(timeline_view(t, red.apply(&t.note))),
            UnitNote::Plain(note) => Some(timeline_view(t, note.to_string())),
            UnitNote::Hidden => None,
        })
        .collect();
    let caller = caller_view(o, Role::Unit);
    OrderView {
        id: o.id.0,
        number: o.number.clone(),
        query_code: None,
        version: o.version,
        state: o.state,
        state_label: o.state.label(),
        channel: o.channel.code(),
        channel_label: o.channel.label(),
        external_id: None,
        external_due: o.external_due.map(|t| t.rfc3339_cst()),
        line: o.line.code(),
        line_label: o.line.label(),
        kind: o.kind.code(),
        kind_label: o.kind.label(),
        urgency: o.urgency.code(),
        urgency_label: o.urgency.label(),
        category: o.category.clone(),
        category_path: o.category.as_deref().map(|c| cfg.categories.path(c)),
        title: text(&o.title),
        content: text(&o.content),
        caller,
        confidential: o.confidential,
        address: Address {
            town: o.address.town.clone(),
            village: o.address.village.clone(),
            detail: red.opt(&o.address.detail),
        },
        risk_tags: o.risk_tags.iter().map(|t| t.label()).collect(),
        enterprise: (!o.confidential).then(|| o.enterprise.clone()).flatten(),
        // A deputy's name is masked like the caller's (they are often the same person).
        deputy: (!o.confidential)
            .then(|| {
                o.deputy.as_ref().map(|d| Deputy {
                    name: mask_name(&d.name),
                    level: d.level.clone(),
                })
            })
            .flatten(),
        rounds: mine
            .iter()
            .filter_map(|i| o.rounds.get(*i))
            .map(|r| round_view(r, units, &names, &text))
            .collect(),
        callbacks: Vec::new(),
        timeline,
        flags: FlagsView {
            supervised: o.flags.supervised.clone().filter(|_| holds),
            reopen_count: o.flags.reopen_count,
            urge_count: o.flags.urge_count,
            repeat_calls: o.flags.repeat_calls,
            merged_into: None,
            merged_from: Vec::new(),
            callback_pending: false,
            reopen_proposal: None,
        },
        reject_code: None,
        reject_transfer: None,
        reject_told: None,
        answer: None,
        merged_reply: None,
        cited: Vec::new(),
        closure: None,
        created_at: o.created_at.rfc3339_cst(),
        created_display: o.created_at.display_cst(),
        updated_at: o.updated_at.rfc3339_cst(),
        closed_at: o.closed_at.map(|t| t.rfc3339_cst()),
        due: match unit {
            Some(u) if holds => unit_due(o, u, cfg, now),
            _ => None,
        },
        actions: if holds {
            actions_for(o, actor, cfg, now)
        } else {
            Vec::new()
        },
        callback_attempts: None,
        attachments: o
            .attachments
            .iter()
            .filter(|a| unit.is_some_and(|u| privacy::unit_sees_attachment(o, u, a.at)))
            .map(|a| crate::domain::attachment::AttachmentRef {
                name: red.apply(&a.name),
                ..a.clone()
            })
            .collect(),
        part_ended: !holds,
    }
}
